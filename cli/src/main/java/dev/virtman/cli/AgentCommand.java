package dev.virtman.cli;

import dev.virtman.agent.Agent;
import dev.virtman.agent.AgentConfig;
import dev.virtman.agent.BandwidthCap;
import dev.virtman.agent.ImageConfig;
import dev.virtman.agent.ImageExport;
import dev.virtman.agent.ManagedAgent;
import dev.virtman.agent.ManagedAgentConfig;
import dev.virtman.manager.api.Labels;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.HedgePolicy;
import dev.virtman.block.manifest.ByteSize;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.vm.VmDriver;
import dev.virtman.vm.VmDrivers;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code virtman agent}: fetch images lazily from parents, verify, cache, and re-export them as
 * read-only iSCSI targets for local VMs and child agents. Runs until SIGTERM/SIGINT.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Cache images fetched from parents (verified against their chunk manifests) and export "
                + "them read-only over iSCSI to local VMs and child agents. Standalone: name each image's "
                + "manifest and parents. Managed: --manager, --host-id, --managed-image; the manager supplies "
                + "manifests, parents (changed live) and boot profiles.",
                "Example: virtman agent --portal 127.0.0.2:3260 --cache-dir /var/cache/virtman "
                        + "--image debian --manifest debian.manifest "
                        + "--parent iscsi://127.0.0.3:3260/iqn.2026-11.dev.virtman:debian/0 "
                        + "--parent iscsi://127.0.0.1:3260/iqn.2026-11.dev.virtman:debian/0"})
public final class AgentCommand implements Callable<Integer> {

    /** One {@code --image} and the options that follow it. */
    static final class ImageOptions {
        @Option(names = "--image", required = true, paramLabel = "NAME",
                description = "image name; exported as iqn.2026-11.dev.virtman:NAME, LUN 0")
        String name;

        @Option(names = "--manifest", required = true, paramLabel = "FILE",
                description = "the image's chunk manifest (virtman manifest IMAGE)")
        Path manifest;

        @Option(names = "--parent", required = true, paramLabel = "URL",
                description = "upstream, repeatable, in preference order with the source last: "
                        + "iscsi://HOST:PORT/IQN/LUN or file:///PATH")
        List<String> parents;
    }

    @CommandLine.Mixin
    ConfigFile.Option configFile;

    @ArgGroup(exclusive = false, multiplicity = "0..*",
            heading = "Standalone images (repeat the group for several):%n")
    List<ImageOptions> images = new ArrayList<>();

    @Option(names = "--manager", paramLabel = "URL[,URL...]", split = ",",
            description = "managed mode: take manifests, parents and boot profiles from this manager; several"
                    + " managers of one cluster separated by commas (or a list in the config file): the agent"
                    + " fails over between them")
    List<String> manager;

    @Option(names = "--ca-file", paramLabel = "PEM",
            description = "managed mode: CA certificates an https:// manager's certificate must chain to"
                    + " (default: $VIRTMAN_CA_FILE, else the JVM's trust store)")
    Path caFile;

    /**
     * The manager's enrolment token (or admin token), used once: the agent enrols, gets its own host
     * token and keeps it in {@code <cache-dir>/host-token} (0600), which later starts use.
     */
    @CommandLine.Mixin
    TokenOptions token;

    @Option(names = "--admit-any-initiator",
            description = "managed mode: let any initiator log in to the image exports (default: only the child hosts"
                    + " the manager names and the VMs of --vm-dir; others get the login reject 'initiator not"
                    + " authorized')")
    boolean admitAnyInitiator;

    @Option(names = "--host-id", paramLabel = "ID", description = "managed mode: this host's id in the trees")
    String hostId;

    @Option(names = "--rack", paramLabel = "NAME",
            description = "managed mode: this host's rack; the manager prefers a parent in the same rack")
    String rack;

    @Option(names = "--zone", paramLabel = "NAME",
            description = "managed mode: this host's zone (rack names compare within a zone); then a parent in the same zone")
    String zone;

    @Option(names = "--managed-image", paramLabel = "NAME|ID",
            description = "managed mode: an image registered with the manager (repeatable)")
    List<String> managedImages = new ArrayList<>();

    @Option(names = "--vm-dir", paramLabel = "DIR",
            description = "managed mode: run the VMs the manager orders for this host (virtman boot --manager), "
                    + "with QEMU, their overlays and logs in DIR/NAME")
    Path vmDir;

    @Option(names = "--libvirt", paramLabel = "URI",
            description = "with --vm-dir: run the VMs as libvirt domains through URI (e.g. qemu:///system) "
                    + "instead of QEMU processes of the agent's own; libvirt's QEMU user must be able to reach DIR")
    String libvirt;

    @Option(names = "--vm-sync", paramLabel = "MILLIS", defaultValue = "1000",
            description = "managed mode with --vm-dir: how often to report VMs and fetch orders (default: ${DEFAULT-VALUE} ms)")
    long vmSyncMillis;

    @Option(names = "--portal", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:3260",
            description = "iSCSI listen address (default: ${DEFAULT-VALUE}; port 0 picks one)")
    String portal;

    @Option(names = "--advertise", paramLabel = "HOST:PORT",
            description = "managed mode: the portal the manager gives children and Cinder, when they reach "
                    + "this host through NAT or a port forward (default: --portal)")
    String advertise;

    @Option(names = "--cache-dir", required = true, paramLabel = "DIR",
            description = "cache directory; one subdirectory per image")
    Path cacheDir;

    @Option(names = "--cache-limit", paramLabel = "SIZE", defaultValue = "0",
            description = "most bytes all image caches may hold, e.g. 20G; idle images are evicted, "
                    + "least recently used first (default: ${DEFAULT-VALUE} = no limit)")
    String cacheLimit;

    @Option(names = "--scrub-rate", paramLabel = "RATE", defaultValue = "4M",
            description = "re-verify cached chunks in the background at this many bytes/s (e.g. 4M), repairing"
                    + " any that fail from a parent; 0 = off (default: ${DEFAULT-VALUE})")
    String scrubRate;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "serve Prometheus /metrics and JSON /status here")
    String metrics;

    @Option(names = "--upstream-cap", paramLabel = "RATE", defaultValue = "none",
            description = "cap on fetches from all parents, e.g. 100M (MiB/s) or 1gbit (default: ${DEFAULT-VALUE})")
    String upstreamCap;

    @Option(names = "--downstream-cap", paramLabel = "RATE", defaultValue = "none",
            description = "cap on reads served to VMs and child agents (default: ${DEFAULT-VALUE})")
    String downstreamCap;

    @Option(names = "--fetch-timeout", paramLabel = "MILLIS", defaultValue = "5000",
            description = "longest a parent may take for one chunk before it is given up on; a hedged request"
                    + " to the next parent usually goes out long before, at the parent's learned deadline "
                    + "(default: ${DEFAULT-VALUE} ms)")
    long fetchTimeoutMillis;

    @Option(names = "--no-hedge", description = "ask one parent at a time, each for the whole --fetch-timeout"
            + " (no hedged requests to the next parent)")
    boolean noHedge;

    @Option(names = "--read-trace", paramLabel = "DIR",
            description = "record every read of each export in DIR/NAME.csv (boot-trace format: "
                    + "time_offset_seconds,byte_offset,length)")
    Path readTraceDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        token.refuseArgvToken();
        boolean managed = manager != null;
        // Managed mode may name no image: a compute node's agent can serve volumes only.
        if (managed == !images.isEmpty() || (!managed && !managedImages.isEmpty())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give either --image/--manifest/--parent "
                    + "groups (standalone) or --manager with --host-id and optional --managed-image (managed)");
        }
        Agent agent;
        AutoCloseable running;
        if (libvirt != null && vmDir == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--libvirt goes with --vm-dir");
        }
        if (!managed && vmDir != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--vm-dir needs --manager (VMs are ordered there)");
        }
        if (!managed && caFile != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--ca-file goes with --manager");
        }
        if (vmSyncMillis < 100) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--vm-sync must be at least 100 ms");
        }
        if (managed) {
            ManagedAgent m = ManagedAgent.start(managedConfig());
            agent = m.agent();
            running = m;
            if (vmDir != null) {
                VmDriver driver = VmDrivers.forHost(vmDir, libvirt);
                m.hostVms(driver, Duration.ofMillis(vmSyncMillis));
                spec.commandLine().getOut().printf("hosting VMs ordered by the manager in %s (%s)%n",
                        vmDir.toAbsolutePath(), VmDrivers.describe(driver));
            }
        } else {
            agent = Agent.start(config());
            running = agent;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                running.close();
            } catch (Exception e) {
                spec.commandLine().getErr().println("agent: " + e);
            }
            stopped.countDown();
        }, "agent-shutdown"));
        PrintWriter out = spec.commandLine().getOut();
        InetSocketAddress p = agent.portal();
        out.printf("agent ready: portal=%s:%d%s%n", p.getAddress().getHostAddress(), p.getPort(),
                agent.metricsAddress() == null ? ""
                        : " metrics=http://" + agent.metricsAddress().getAddress().getHostAddress() + ":"
                        + agent.metricsAddress().getPort() + "/metrics");
        for (ImageExport export : agent.images()) {
            out.printf("export %s %s present=%d/%d%n", export.name(), agent.exportUrl(export.name()),
                    export.presentAtOpen(), export.manifest().chunkCount());
        }
        out.flush();
        stopped.await();
        return 0;
    }

    AgentConfig config() {
        List<ImageConfig> list = new ArrayList<>();
        long upstream;
        long downstream;
        long limit;
        try {
            for (ImageOptions i : images) {
                list.add(new ImageConfig(i.name, i.parents, i.manifest));
            }
            upstream = BandwidthCap.parse(upstreamCap);
            downstream = BandwidthCap.parse(downstreamCap);
            limit = cacheLimitBytes();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        FetchPolicy policy = fetchPolicy();
        return new AgentConfig(list, address("--portal", portal), metrics == null ? null : address("--metrics", metrics),
                cacheDir, upstream, downstream, policy, readTraceDir, limit, scrubBytesPerSecond());
    }

    ManagedAgentConfig managedConfig() {
        if (hostId == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "managed mode needs --host-id");
        }
        token.refuseArgvToken();
        // Once enrolled, the agent's own host token is all it needs; the bootstrap token is optional.
        String t = ManagedAgent.enrolled(cacheDir, hostId) ? null : token.token(null);
        try {
            List<URI> urls = managerUrls();
            return new ManagedAgentConfig(urls.getFirst(), t, hostId, managedImages, address("--portal", portal),
                    metrics == null ? null : address("--metrics", metrics), cacheDir,
                    BandwidthCap.parse(upstreamCap), BandwidthCap.parse(downstreamCap),
                    fetchPolicy(), null, null,
                    cacheLimitBytes(), advertise == null ? null : address("--advertise", advertise),
                    new Labels(rack, zone)).withScrubRate(scrubBytesPerSecond()).withManagers(urls, caFile)
                    .withAdmitKnownOnly(!admitAnyInitiator);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private List<URI> managerUrls() {
        try {
            return ManagerClient.parseUrls(String.join(",", manager));
        } catch (ManagerClientException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--manager: " + e.getMessage());
        }
    }

    private long scrubBytesPerSecond() {
        try {
            return ByteSize.parse(scrubRate);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--scrub-rate: " + e.getMessage(), e);
        }
    }

    private long cacheLimitBytes() {
        try {
            return ByteSize.parse(cacheLimit);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cache-limit: " + e.getMessage(), e);
        }
    }

    private InetSocketAddress address(final String option, final String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new IllegalArgumentException("missing :PORT");
            }
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            return new InetSocketAddress(hostPort.substring(0, colon), port);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    option + " must be HOST:PORT, got '" + hostPort + "' (" + e.getMessage() + ")");
        }
    }

    private FetchPolicy fetchPolicy() {
        FetchPolicy p = FetchPolicy.DEFAULT.withAttemptTimeout(Duration.ofMillis(fetchTimeoutMillis));
        return noHedge ? p.withHedging(HedgePolicy.OFF) : p;
    }
}
