package dev.virtman.manager.http;

import dev.virtman.block.PrivateFiles;
import com.sun.net.httpserver.HttpServer;
import dev.virtman.manager.ApiToken;
import dev.virtman.manager.GlanceImports;
import dev.virtman.manager.Manager;
import dev.virtman.manager.VmBoard;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.ManifestProvider;
import dev.virtman.manager.ChunkManifestProvider;
import dev.virtman.manager.StateDir;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.volume.VolumeService;
import dev.virtman.manager.volume.VolumeStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running manager: state directory, token, store, {@link Manager}, the REST server (JDK
 * {@link HttpServer}, a small pool of platform threads) and the failure detector that fails hosts
 * whose heartbeats stopped.
 */
public final class ManagerServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ManagerServer.class);

    /** The detector runs this many times per heartbeat interval, bounding detection lag. */
    private static final int CHECKS_PER_INTERVAL = 4;
    private static final Duration MIN_CHECK_PERIOD = Duration.ofMillis(20);
    private static final int STOP_GRACE_SECONDS = 1;
    /**
     * Pending connections the kernel queues. The JDK default (50) overflows when a boot storm's
     * agents all connect at once, and a dropped SYN costs the client a one-second retransmit.
     */
    private static final int ACCEPT_BACKLOG = 1024;
    /**
     * Platform threads answering requests. Most requests are short (the state is in memory behind
     * one lock), but image registration hashes the image and a manifest download sends megabytes
     * (2 MiB for a 4 GiB image at 64 KiB chunks) to a client that may be slow to read; with 8
     * threads, 100 agents downloading manifests at once held heartbeats back past the timeout.
     * Idle platform threads cost an unused stack reservation. Platform rather than virtual threads: a manager
     * embedded in a busy JVM (`virtman boot`, the boot storm) would otherwise queue heartbeats
     * behind every other virtual thread on the shared carrier pool, and hosts would be failed
     * for heartbeats that had arrived (the 100-host storm failed hundreds of live hosts).
     */
    private static final int REQUEST_THREADS = 64;

    private final Manager manager;
    private final VolumeService volumes;
    private final HttpServer http;
    private final ExecutorService requests;
    private final ExecutorService longRequests;
    private final ScheduledExecutorService detector;
    private final ApiToken token;
    private final StateDir stateDir;

    private ManagerServer(final Manager manager, final VolumeService volumes, final HttpServer http,
                          final ExecutorService requests, final ExecutorService longRequests,
                          final ScheduledExecutorService detector, final ApiToken token, final StateDir stateDir) {
        this.manager = manager;
        this.volumes = volumes;
        this.http = http;
        this.requests = requests;
        this.longRequests = longRequests;
        this.detector = detector;
        this.token = token;
        this.stateDir = stateDir;
    }

    /** Starts a manager that builds manifests with the block layer's builder, one thread per core. */
    /**
     * The state directory 0700 and what the manager keeps in it 0600 (databases with their
     * journals, CHAP secrets in {@code volumes.db}, token, manifests, imported images), whatever
     * existed before. Only the manager's own entries are touched: {@code --state-dir} may name a
     * directory that also holds other things.
     */
    private static void securePrivateState(final StateDir dir) throws IOException {
        PrivateFiles.createDirectories(dir.path());
        try (var entries = Files.list(dir.path())) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(StateDir.DATABASE) || name.startsWith(VolumeStore.FILE)
                        || name.equals(StateDir.TOKEN) || name.startsWith(StateDir.URL)) {
                    PrivateFiles.restrict(p);
                }
            }
        }
        PrivateFiles.secureTree(dir.manifests());
        PrivateFiles.secureTree(dir.images());
    }

    public static ManagerServer start(final ManagerConfig config) throws IOException {
        return start(config, new ChunkManifestProvider(config.chunkSize(), Runtime.getRuntime().availableProcessors()));
    }

    public static ManagerServer start(final ManagerConfig config, final ManifestProvider manifests) throws IOException {
        StateDir dir = config.stateDir().create();
        securePrivateState(dir);
        ApiToken token = ApiToken.loadOrCreate(dir.token());
        StateStore store = StateStore.open(dir.database());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Manager manager;
        try {
            manager = new Manager(config, store, manifests, metrics, InstantSource.system());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        VolumeService volumes = new VolumeService(manager, VolumeStore.open(dir.path().resolve(VolumeStore.FILE)));
        try {
            securePrivateState(dir); // the databases SQLite just created, with the umask's mode
        } catch (IOException e) {
            volumes.close();
            manager.close();
            throw e;
        }
        HttpServer http;
        try {
            http = HttpServer.create(config.listen(), ACCEPT_BACKLOG);
        } catch (IOException e) {
            volumes.close();
            manager.close();
            throw new IOException("cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        }
        ExecutorService requests = Executors.newFixedThreadPool(REQUEST_THREADS,
                Thread.ofPlatform().daemon().name("manager-request-", 0).factory());
        http.setExecutor(requests);
        GlanceImports glance = config.glance() == null ? null
                : new GlanceImports(manager, config.glance(), dir.images());
        ExecutorService longRequests = Executors.newVirtualThreadPerTaskExecutor();
        http.createContext("/", new ApiHandler(manager, token, metrics, volumes, glance, longRequests,
                new VmBoard(InstantSource.system())));
        http.start();
        ScheduledExecutorService detector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "virtman-failure-detector");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(MIN_CHECK_PERIOD.toMillis(), config.heartbeatInterval().toMillis() / CHECKS_PER_INTERVAL);
        detector.scheduleWithFixedDelay(() -> {
            try {
                manager.expireSilentHosts();
            } catch (RuntimeException e) {
                LOG.error("failure detector pass failed; retrying next period", e);
            }
        }, period, period, TimeUnit.MILLISECONDS);
        ManagerServer server = new ManagerServer(manager, volumes, http, requests, longRequests, detector, token, dir);
        server.publishUrl();
        LOG.info("manager listening on {} (state in {}, fan-out {}, source fan-out {}, max depth {}, heartbeat {} / timeout {})",
                server.url(), dir.path(), config.limits().fanOut(), config.limits().sourceFanOut(),
                config.limits().maxDepth() + (config.limits().depthGrows() ? " growing with the hosts" : ""),
                config.heartbeatInterval(), config.heartbeatTimeout());
        if (glance != null) {
            LOG.info("imports Glance images on demand from {} into {}", config.glance().endpoint(), dir.images());
        }
        return server;
    }

    /** Writes the URL to the state directory so the CLI on this machine finds the manager. */
    private void publishUrl() throws IOException {
        var tmp = Files.createTempFile(stateDir.path(), StateDir.URL, ".tmp");
        Files.writeString(tmp, url() + "\n");
        Files.move(tmp, stateDir.url(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public URI url() {
        InetSocketAddress a = http.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + a.getPort());
    }

    public String token() {
        return token.value();
    }

    public VolumeService volumes() {
        return volumes;
    }

    public Manager manager() {
        return manager;
    }

    @Override
    public void close() {
        detector.shutdownNow();
        http.stop(0);
        requests.shutdown();
        // A Glance import still downloading is abandoned; its partial file is deleted on the way out.
        longRequests.shutdownNow();
        try {
            requests.awaitTermination(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
            longRequests.awaitTermination(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        volumes.close();
        manager.close();
        LOG.info("manager stopped");
    }
}
