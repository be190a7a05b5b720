package dev.virtman.manager.http;

import dev.virtman.block.PrivateFiles;
import dev.virtman.manager.GlanceImports;
import dev.virtman.manager.Manager;
import dev.virtman.manager.VmBoard;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.ManifestProvider;
import dev.virtman.manager.ChunkManifestProvider;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.auth.Credentials;
import dev.virtman.manager.backend.ClusterStatus;
import dev.virtman.manager.backend.EtcdBackend;
import dev.virtman.manager.backend.EtcdLeadership;
import dev.virtman.manager.backend.StateBackend;
import dev.virtman.manager.store.EtcdKeyspace;
import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.volume.VolumeService;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running manager: state directory, token, store, {@link Manager}, the HTTP server (Jetty, see
 * docs/manager.md "Server" for why) with the REST API and the agents' streams, and the failure
 * detector that fails hosts whose agents went silent.
 */
public final class ManagerServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ManagerServer.class);

    private static final int STOP_GRACE_SECONDS = 1;
    /**
     * Pending connections the kernel queues. The JDK default (50) overflows when a boot storm's
     * agents all connect at once, and a dropped SYN costs the client a one-second retransmit.
     */
    private static final int ACCEPT_BACKLOG = 4096;
    /**
     * Jetty's own threads: acceptor, selectors, reading requests and stream frames, upgrades.
     * Routes never run on them (they have their own pool), so pings are read and noted while an
     * enrolment wave's registrations wait for their group commit on every route thread. As many
     * as the shared pool had before, so reading 10,000 streams' frames never waits for a thread
     * (an idle thread costs its stack).
     */
    private static final int SERVER_THREADS = 64;
    /**
     * When the connection limit is reached, connections idle this long are closed, so holders
     * of idle connections cannot keep agents out for a whole idle timeout.
     */
    private static final Duration IDLE_TIMEOUT_AT_LIMIT = Duration.ofSeconds(2);

    private final Manager manager;
    private final VolumeService volumes;
    private final Server http;
    private final ServerConnector connector;
    private final ExecutorService routeThreads;
    private final ExecutorService longRequests;
    private final ScheduledExecutorService timers;
    private final Credentials credentials;
    private final StateDir stateDir;
    private final boolean tls;
    private final StateBackend backend;
    private volatile EtcdLeadership leadership;
    /** The failure detector's own thread; set once started. */
    private volatile ScheduledExecutorService detector;

    /** The cluster view, set once the server knows its URL. */
    private static final class ClusterRef implements java.util.function.Supplier<ClusterView> {
        private volatile ClusterStatus status;

        @Override
        public ClusterView get() {
            ClusterStatus s = status;
            if (s == null) {
                throw new ManagerException(ManagerException.Reason.UNAVAILABLE, "starting");
            }
            return s.get();
        }
    }

    private ManagerServer(final Manager manager, final VolumeService volumes, final Server http,
                          final ServerConnector connector, final ExecutorService routeThreads,
                          final ExecutorService longRequests,
                          final ScheduledExecutorService timers, final Credentials credentials, final StateDir stateDir,
                          final boolean tls, final StateBackend backend) {
        this.manager = manager;
        this.volumes = volumes;
        this.http = http;
        this.connector = connector;
        this.routeThreads = routeThreads;
        this.longRequests = longRequests;
        this.timers = timers;
        this.credentials = credentials;
        this.stateDir = stateDir;
        this.tls = tls;
        this.backend = backend;
    }

    /** Starts a manager that builds manifests with the block layer's builder, one thread per core. */
    /**
     * The state directory 0700 and what the manager keeps in it 0600 (databases with their
     * journals: CHAP secrets in {@code volumes.db}, credential hashes; token, manifests, imported images), whatever
     * existed before. Only the manager's own entries are touched: {@code --state-dir} may name a
     * directory that also holds other things.
     */
    private static void securePrivateState(final StateDir dir) throws IOException {
        PrivateFiles.createDirectories(dir.path());
        try (var entries = Files.list(dir.path())) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                // SQLite databases (manager.db, volumes.db, credentials.db) and their journals
                boolean database = name.endsWith(".db") || name.contains(".db-");
                if (database || name.equals(StateDir.TOKEN) || name.equals(StateDir.ENROL_TOKEN)
                        || name.startsWith(StateDir.URL)) {
                    PrivateFiles.restrict(p);
                }
            }
        }
        PrivateFiles.secureTree(dir.manifests());
        PrivateFiles.secureTree(dir.images());
    }

    public static ManagerServer start(final ManagerConfig config) throws IOException {
        return start(config, ServerSettings.DEFAULT);
    }

    public static ManagerServer start(final ManagerConfig config, final ServerSettings settings) throws IOException {
        return start(config, new ChunkManifestProvider(config.chunkSize(), Runtime.getRuntime().availableProcessors()),
                settings);
    }

    public static ManagerServer start(final ManagerConfig config, final ManifestProvider manifests) throws IOException {
        return start(config, manifests, ServerSettings.DEFAULT);
    }

    public static ManagerServer start(final ManagerConfig config, final ManifestProvider manifests,
                                      final ServerSettings settings) throws IOException {
        return start(config, manifests, settings, StateBackend.SQLITE);
    }

    /** Starts a manager whose state is in the backend {@code backends} opens (SQLite or etcd). */
    public static ManagerServer start(final ManagerConfig config, final ManifestProvider manifests,
                                      final ServerSettings settings, final StateBackend.Opener backends)
            throws IOException {
        return start(config, manifests, settings, backends, InstantSource.system());
    }

    /**
     * As {@link #start(ManagerConfig, ManifestProvider, ServerSettings, StateBackend.Opener)}, with
     * the clock the manager judges heartbeats, tokens and VM orders by (a test moves it instead
     * of sleeping).
     */
    public static ManagerServer start(final ManagerConfig config, final ManifestProvider manifests,
                                      final ServerSettings settings, final StateBackend.Opener backends,
                                      final InstantSource clock) throws IOException {
        SslContextFactory.Server tlsContext = settings.tls()
                ? PemTls.serverContext(settings.tlsCertificate(), settings.tlsKey()) : null;
        StateDir dir = config.stateDir().create();
        securePrivateState(dir);
        StateBackend backend = backends.open(dir);
        if (backend instanceof EtcdBackend etcd) {
            etcd.keyspace().fence(new EtcdKeyspace.Follower(null)); // no write before this manager is elected
        }
        Credentials credentials;
        try {
            credentials = Credentials.open(dir, clock, backend.credentials());
        } catch (IOException | RuntimeException e) {
            backend.state().close();
            backend.volumes().close();
            backend.close();
            throw e;
        }
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Manager manager;
        try {
            manager = new Manager(config, backend.state(), manifests, metrics, clock);
        } catch (RuntimeException e) {
            backend.state().close();
            backend.volumes().close();
            credentials.close();
            backend.close();
            throw e;
        }
        if (backend instanceof EtcdBackend) {
            manager.lead(false);
        }
        VolumeService volumes = new VolumeService(manager, backend.volumes());
        try {
            securePrivateState(dir); // the databases SQLite just created, with the umask's mode
        } catch (IOException e) {
            volumes.close();
            manager.close();
            credentials.close();
            backend.close();
            throw e;
        }
        VmBoard vms;
        try {
            vms = new VmBoard(clock, backend.vmOrders());
        } catch (RuntimeException e) {
            volumes.close();
            manager.close();
            credentials.close();
            backend.close();
            throw e;
        }
        GlanceImports glance = config.glance() == null ? null
                : new GlanceImports(manager, config.glance(), dir.images());
        ExecutorService longRequests = Executors.newVirtualThreadPerTaskExecutor();
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "virtman-manager-timer");
            t.setDaemon(true);
            return t;
        });
        Authenticator authenticator = Authenticator.of(credentials);

        // Platform threads, not virtual: a manager embedded in a busy JVM (virtman boot, the boot
        // storm) would otherwise queue requests behind every other virtual thread on the shared
        // carrier pool, and hosts would be failed for heartbeats that had arrived.
        QueuedThreadPool threads = new QueuedThreadPool(SERVER_THREADS, SERVER_THREADS / 2);
        threads.setName("manager-http");
        threads.setDaemon(true);
        // Routes run on a pool of their own: when they shared Jetty's, a 3,000-host enrolment
        // wave's registrations (each waiting for its group commit) held every thread, the stream
        // frames queued behind them unread, and the failure detector failed hosts whose pings had
        // been sent in time (docs/manager.md, "Failure detection").
        ExecutorService routeThreads = routeThreads(settings.requestThreads());
        Server server = new Server(threads);
        HttpConfiguration httpConfig = new HttpConfiguration();
        httpConfig.setRequestHeaderSize(settings.maxHeaderBytes());
        httpConfig.setSendServerVersion(false);
        httpConfig.setIdleTimeout(settings.idleTimeout().toMillis());
        ConnectionFactory[] factories = settings.tls()
                ? new ConnectionFactory[] {new SslConnectionFactory(tlsContext, "http/1.1"), new HttpConnectionFactory(httpConfig)}
                : new ConnectionFactory[] {new HttpConnectionFactory(httpConfig)};
        ServerConnector connector = new ServerConnector(server, 1, -1, factories);
        InetSocketAddress listen = config.listen();
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        connector.setAcceptQueueSize(ACCEPT_BACKLOG);
        connector.setIdleTimeout(settings.idleTimeout().toMillis());
        server.addConnector(connector);
        NetworkConnectionLimit limit = new NetworkConnectionLimit(settings.maxConnections(), server);
        limit.setEndPointIdleTimeout(IDLE_TIMEOUT_AT_LIMIT.toMillis());
        server.addBean(limit);
        AgentStreams streams = new AgentStreams(manager, volumes, authenticator, metrics);
        ClusterRef cluster = new ClusterRef();
        RestHandler rest = new RestHandler(RestApi.routes(manager, volumes, glance, vms, metrics, credentials, cluster),
                authenticator, settings, routeThreads, longRequests, metrics);
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, streams::install);
        upgrades.setHandler(rest);
        server.setHandler(upgrades);
        try {
            server.start();
        } catch (Exception e) {
            stopQuietly(server);
            routeThreads.shutdownNow();
            timers.shutdownNow();
            volumes.close();
            manager.close();
            credentials.close();
            backend.close();
            throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
        }
        new HeaderDeadline(connector, settings.headerTimeout(), System::nanoTime).schedule(timers);
        streams.schedule(timers);
        ManagerServer running = new ManagerServer(manager, volumes, server, connector, routeThreads, longRequests, timers,
                credentials,
                dir, settings.tls(), backend);
        // The detector has a thread of its own: it takes its own lateness for a stall of the
        // manager (LocalPauses), so the push pass or header sweep must not be able to delay it.
        long period = Manager.detectorPeriod(config.heartbeatInterval()).toMillis();
        ScheduledExecutorService detector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "virtman-failure-detector");
            t.setDaemon(true);
            return t;
        });
        running.detector = detector;
        detector.scheduleWithFixedDelay(() -> {
            try {
                manager.expireSilentHosts();
            } catch (RuntimeException e) {
                LOG.error("failure detector pass failed; retrying next period", e);
            }
        }, period, period, TimeUnit.MILLISECONDS);
        if (backend instanceof EtcdBackend etcd) {
            running.leadership = EtcdLeadership.start(etcd, manager, () -> {
                credentials.reload();
                vms.reload();
            }, running.url());
            cluster.status = ClusterStatus.etcd(running.leadership);
        } else {
            cluster.status = ClusterStatus.alone(running.url());
        }
        running.publishUrl();
        LOG.info("manager listening on {} (state: {}, fan-out {}, source fan-out {}, max depth {}, heartbeat {} / timeout {})",
                running.url(), backend.describe(), config.limits().fanOut(), config.limits().sourceFanOut(),
                config.limits().maxDepth() + (config.limits().depthGrows() ? " growing with the hosts" : ""),
                config.heartbeatInterval(), config.heartbeatTimeout());
        if (glance != null) {
            LOG.info("imports Glance images on demand from {} into {}", config.glance().endpoint(), dir.images());
        }
        return running;
    }

    /** The route handlers' threads: platform, daemon, named; their queue is unbounded like Jetty's was. */
    private static ExecutorService routeThreads(final int count) {
        AtomicInteger next = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(count, count, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "manager-route-" + next.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private static void stopQuietly(final Server server) {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.debug("stopping a server that did not start: {}", e.toString());
        }
    }

    /** Writes the URL to the state directory so the CLI on this machine finds the manager. */
    private void publishUrl() throws IOException {
        var tmp = Files.createTempFile(stateDir.path(), StateDir.URL, ".tmp");
        Files.writeString(tmp, url() + "\n");
        Files.move(tmp, stateDir.url(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public URI url() {
        String host = connector.getHost();
        if (host == null || host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
            host = "127.0.0.1";
        }
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create((tls ? "https" : "http") + "://" + host + ":" + connector.getLocalPort());
    }

    /** The admin token. */
    public String token() {
        return credentials.adminToken();
    }

    /** The file (mode 0600) holding the admin token, for {@code --token-file}. */
    public java.nio.file.Path tokenFile() {
        return stateDir.token();
    }

    /** The bootstrap secret that enrols new hosts. */
    public String enrolmentToken() {
        return credentials.enrolmentToken();
    }

    public Credentials credentials() {
        return credentials;
    }

    public VolumeService volumes() {
        return volumes;
    }

    public Manager manager() {
        return manager;
    }

    /** The election, with {@code --etcd}; null on SQLite. */
    public EtcdLeadership leadership() {
        return leadership;
    }

    @Override
    public void close() {
        EtcdLeadership l = leadership;
        if (l != null) {
            l.close(); // resign first, so another manager takes over at once
        }
        timers.shutdownNow();
        ScheduledExecutorService d = detector;
        if (d != null) {
            d.shutdownNow();
        }
        http.setStopTimeout(TimeUnit.SECONDS.toMillis(STOP_GRACE_SECONDS));
        stopQuietly(http);
        routeThreads.shutdownNow();
        // A Glance import still downloading is abandoned; its partial file is deleted on the way out.
        longRequests.shutdownNow();
        try {
            longRequests.awaitTermination(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        volumes.close();
        manager.close();
        credentials.close();
        backend.close();
        LOG.info("manager stopped");
    }
}
