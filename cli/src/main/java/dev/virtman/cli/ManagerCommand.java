package dev.virtman.cli;

import dev.virtman.block.manifest.ByteSize;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.manager.Addresses;
import dev.virtman.manager.Admission;
import dev.virtman.manager.HostNetworks;
import dev.virtman.manager.GlanceSettings;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.ChunkManifestProvider;
import dev.virtman.manager.backend.EtcdBackend;
import dev.virtman.manager.SourceExports;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.http.ServerSettings;
import dev.virtman.manager.store.StoreException;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code virtman manager}: runs the control plane until interrupted (SIGINT/SIGTERM). */
@Command(name = "manager", mixinStandardHelpOptions = true,
        description = "Run the manager: REST API, state store, tree planner, failure detector.")
public final class ManagerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @CommandLine.Mixin
    ConfigFile.Option configFile;

    @Option(names = "--tls-cert", paramLabel = "PEM",
            description = "Serve HTTPS (and wss:// agent streams) with this PEM certificate chain; needs --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "PKCS#8 PEM private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:" + ManagerConfig.DEFAULT_PORT,
            description = "REST API address (port 0 picks a free one). Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Database, manifests and token (default: $VIRTMAN_STATE_DIR, else ~/.local/state/virtman; "
                    + "a system service uses /var/lib/virtman, where clients also look).")
    Path stateDir;

    @Option(names = "--fan-out", paramLabel = "N", defaultValue = "" + TreeLimits.DEFAULT_FAN_OUT,
            description = "Children per agent. Default: ${DEFAULT-VALUE} (see docs/manager.md).")
    int fanOut;

    @Option(names = "--source-fan-out", paramLabel = "N",
            description = "Children of the source target (default: same as --fan-out).")
    Integer sourceFanOut;

    @Option(names = "--max-depth", paramLabel = "N",
            description = "Deepest tree level, fixed: hosts that do not fit wait unplaced. Default: "
                    + TreeLimits.DEFAULT_MAX_DEPTH + ", growing by a level whenever the hosts would not fit.")
    Integer maxDepth;

    @Option(names = "--heartbeat-interval", paramLabel = "DURATION", defaultValue = "2s",
            converter = DurationConverter.class, description = "Expected agent heartbeat period. Default: ${DEFAULT-VALUE}.")
    Duration heartbeatInterval;

    @Option(names = "--heartbeat-timeout", paramLabel = "DURATION", defaultValue = "6s",
            converter = DurationConverter.class,
            description = "Silence after which a host is failed and its children re-parented. Default: ${DEFAULT-VALUE}.")
    Duration heartbeatTimeout;

    @Option(names = "--source-portal", paramLabel = "HOST:PORT", defaultValue = ManagerConfig.DEFAULT_SOURCE_PORTAL,
            description = "iSCSI portal of the source target, last entry of every parent list. Default: ${DEFAULT-VALUE}.")
    String sourcePortal;

    @Option(names = "--serve-source", description = "Serve every registered image read-only on --source-portal"
            + " (the manager's own source target) instead of relying on a separately run one.")
    boolean serveSource;

    @Option(names = "--source-rack", paramLabel = "RACK", defaultValue = "", description = "Rack of the source.")
    String sourceRack;

    @Option(names = "--source-zone", paramLabel = "ZONE", defaultValue = "", description = "Zone of the source.")
    String sourceZone;

    @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "64K",
            description = "Manifest chunk size for new images, a power of two from 4K to 16M. Default: ${DEFAULT-VALUE}.")
    String chunkSize;

    @Option(names = "--glance-url", paramLabel = "URL",
            description = "Glance endpoint to import images from on demand (POST /v1/images with a glanceImageId;"
                    + " the Cinder driver's 'create volume from image'). Keystone credentials: the --os-* options.")
    URI glanceUrl;

    @Option(names = "--image-dir", paramLabel = "DIR",
            description = "A directory image files may be registered from (repeatable); <state dir>/images, where"
                    + " Glance imports land, always is. Paths are checked after resolving symlinks.")
    List<Path> imageDirs = new ArrayList<>();

    @Option(names = "--host-network", paramLabel = "CIDR",
            description = "A network hosts' registered addresses may be in (repeatable; replaces the default:"
                    + " loopback and private networks, see docs/manager.md).")
    List<String> hostNetworks = new ArrayList<>();

    @Option(names = "--max-volume-size", paramLabel = "SIZE", defaultValue = "16T",
            description = "Largest volume a client may create. Default: ${DEFAULT-VALUE} (ext4's largest file).")
    String maxVolumeSize;

    @Option(names = "--etcd", paramLabel = "URL[,URL...]", split = ",",
            description = "Keep the manager's state in this etcd cluster instead of SQLite, shared with other managers"
                    + " given the same URLs: one is elected leader, the others answer reads (docs/manager.md,"
                    + " \"High availability\").")
    List<URI> etcd = new ArrayList<>();

    @Mixin
    OpenStackAuthOptions glanceAuth;

    private TreeLimits limits() {
        int source = sourceFanOut == null ? fanOut : sourceFanOut;
        return maxDepth == null ? TreeLimits.growing(fanOut, source) : new TreeLimits(fanOut, source, maxDepth);
    }

    private static List<Path> absolute(final List<Path> dirs) {
        return dirs.stream().map(d -> d.toAbsolutePath().normalize()).toList();
    }

    @Override
    public Integer call() throws Exception {
        ManagerConfig config;
        try {
            InetSocketAddress parsed = Addresses.resolveListen(listen);
            long chunk = ByteSize.parse(chunkSize);
            ChunkManifest.checkChunkSize((int) Math.min(chunk, Integer.MAX_VALUE));
            config = ManagerConfig.defaults(stateDir == null ? StateDir.defaultDir() : new StateDir(stateDir))
                    .withListen(parsed)
                    .withLimits(limits())
                    .withHeartbeat(heartbeatInterval, heartbeatTimeout)
                    .withSource(sourcePortal, new Locality(sourceRack, sourceZone))
                    .withChunkSize((int) chunk)
                    .withGlance(glanceUrl == null ? null : new GlanceSettings(glanceUrl, glanceAuth.tokens()))
                    .withAdmission(new Admission(absolute(imageDirs),
                            hostNetworks.isEmpty() ? HostNetworks.DEFAULT : new HostNetworks(hostNetworks),
                            ByteSize.parse(maxVolumeSize)));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        ServerSettings settings;
        try {
            for (URI u : etcd) {
                if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0) {
                    throw new IllegalArgumentException("--etcd: expected http://HOST:PORT, got '" + u + "'"
                            + " (TLS to etcd is not supported yet)");
                }
            }
            settings = tlsCert == null && tlsKey == null ? ServerSettings.DEFAULT
                    : ServerSettings.DEFAULT.withTls(tlsCert, tlsKey);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        InetSocketAddress sourceListen;
        try {
            sourceListen = serveSource ? Addresses.resolved(Addresses.parse(sourcePortal)) : null;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--source-portal: " + e.getMessage());
        }
        ManagerServer server;
        try {
            server = etcd.isEmpty() ? ManagerServer.start(config, settings)
                    : ManagerServer.start(config, new ChunkManifestProvider(config.chunkSize(),
                            Runtime.getRuntime().availableProcessors()), settings,
                            dir -> EtcdBackend.connect(etcd, EtcdBackend.PREFIX, EtcdBackend.TIMEOUT));
        } catch (IOException | StoreException e) {
            spec.commandLine().getErr().println("virtman: cannot start the manager: " + e.getMessage());
            return ClientCommands.FAILED;
        }
        SourceExports source = null;
        if (serveSource) {
            try {
                source = SourceExports.start(server.manager(), sourceListen);
            } catch (IOException e) {
                server.close();
                spec.commandLine().getErr().println("virtman: cannot serve the source target on " + sourcePortal + ": "
                        + e.getMessage());
                return ClientCommands.FAILED;
            }
        }
        spec.commandLine().getOut().printf("manager listening on %s (token in %s)%s%n", server.url(),
                config.stateDir().token(), source == null ? "" : "; source target on " + source.portal());
        spec.commandLine().getOut().flush();
        CountDownLatch stopped = new CountDownLatch(1);
        SourceExports served = source;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (served != null) {
                served.close();
            }
            server.close();
            stopped.countDown();
        }, "virtman-manager-shutdown"));
        stopped.await();
        return 0;
    }
}
