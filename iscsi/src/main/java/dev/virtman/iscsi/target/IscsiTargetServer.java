package dev.virtman.iscsi.target;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An iSCSI target (RFC 7143) serving {@link ExportedTarget}s on one portal. Each accepted TCP
 * connection gets a {@link TargetConnection} (reader, writer, worker virtual threads); a
 * once-a-second timer enforces the login timeout and pings idle connections. All sessions share
 * one {@link InFlightBudget} of data bytes.
 *
 * <pre>
 *   try (IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
 *           new InetSocketAddress("127.0.0.1", 0), List.of(ExportedTarget.open(iqn, executor))))) {
 *       int port = server.localAddress().getPort();
 *       ...
 *   }
 * </pre>
 */
public final class IscsiTargetServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IscsiTargetServer.class);
    private static final long TICK_MILLIS = 1000;
    /** Pending connections the kernel queues before we accept them. */
    private static final int ACCEPT_BACKLOG = 128;

    private final ServerSocketChannel listener;
    private final TargetContext context;
    private final Set<TargetConnection> connections = ConcurrentHashMap.newKeySet();
    /** Open connections per client address (for {@link TargetTuning#maxConnectionsPerAddress()}). */
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final ConnectionRefusals refusals;
    private final ScheduledExecutorService timer;
    private final Thread acceptor;
    private volatile boolean closed;

    private IscsiTargetServer(final ServerSocketChannel listener, final TargetContext context,
                              final ConnectionRefusals refusals) {
        this.listener = listener;
        this.context = context;
        this.refusals = refusals;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "iscsi-target-timer");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = Thread.ofPlatform().daemon().name("iscsi-target-accept").unstarted(this::acceptLoop);
    }

    /** Starts a server with counters in a private {@link SimpleMeterRegistry}. */
    public static IscsiTargetServer start(final TargetServerConfig config) throws IOException {
        return start(config, new SimpleMeterRegistry());
    }

    /** Starts a server whose counters are registered in {@code registry}. */
    public static IscsiTargetServer start(final TargetServerConfig config, final MeterRegistry registry)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(config.portal(), ACCEPT_BACKLOG);
        } catch (IOException e) {
            listener.close();
            throw new IOException("cannot listen on " + config.portal() + ": " + e.getMessage(), e);
        }
        InetSocketAddress bound = (InetSocketAddress) listener.getLocalAddress();
        ExecutorService workers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("iscsi-cmd-", 0).factory());
        ConnectionRefusals refusals = new ConnectionRefusals(registry, ConnectionRefusals.DEFAULT_INTERVAL, System::nanoTime);
        TargetContext context = new TargetContext(bound, config.advertisedPortal(), new TargetCatalog(config.targets()), config.tuning(),
                new InFlightBudget(config.tuning().inFlightBudgetBytes()),
                new DataInBufferPool(idleDataInSlabs(config.tuning().inFlightBudgetBytes())), new TargetMetrics(registry),
                new SessionRegistry(), workers, new SecureRandom(), new TargetPause(), refusals);
        IscsiTargetServer server = new IscsiTargetServer(listener, context, refusals);
        server.acceptor.start();
        server.timer.scheduleAtFixedRate(server::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        LOG.info("iSCSI target listening on {} with {} target(s)", bound, config.targets().size());
        return server;
    }

    /** Idle Data-In slabs a server keeps: what its in-flight budget can use at once, 4 to 32 (4 MiB). */
    private static int idleDataInSlabs(final long inFlightBudgetBytes) {
        return (int) Math.clamp(inFlightBudgetBytes / DataInBufferPool.SLAB_BYTES, 4, 32);
    }

    /** Exports {@code target} from now on; its name must not be exported already. */
    public void addTarget(final ExportedTarget target) {
        context.targets().add(target);
        LOG.info("now exporting {}", target.iqn());
    }

    /**
     * Changes who may log in to an exported target ({@code target} names it; its LUNs are the
     * same): later logins and SendTargets answers follow the new rules, and sessions of
     * initiators the new rules no longer admit are closed.
     */
    public void replaceTarget(final ExportedTarget target) {
        context.targets().replace(target);
        for (TargetConnection c : connections) {
            if (c.servesTarget(target.iqn()) && !target.loginTarget().admits(c.initiatorName())) {
                c.close();
            }
        }
    }

    /**
     * Lets only {@code initiators} log in to the exported target {@code iqn} (nobody when empty;
     * see {@link #replaceTarget}): the allow list of hosts a manager knows, kept in sync by
     * calling this whenever the list may have changed. Returns false if {@code iqn} is not
     * exported; does nothing when the list is unchanged.
     */
    public boolean admitOnly(final String iqn, final java.util.Set<String> initiators) {
        ExportedTarget current = context.targets().get(iqn);
        if (current == null) {
            return false;
        }
        ExportedTarget next = current.admittingOnly(initiators);
        if (!next.allowedInitiators().equals(current.allowedInitiators())) {
            replaceTarget(next);
        }
        return true;
    }

    /**
     * Stops exporting {@code iqn} and closes the connections of its sessions (their initiators
     * see the connection drop, as when a LUN is unmapped), so the caller may then close the
     * target's device. Returns whether it was exported.
     */
    public boolean removeTarget(final String iqn) {
        boolean removed = context.targets().remove(iqn);
        for (TargetConnection c : connections) {
            if (c.servesTarget(iqn)) {
                c.close();
            }
        }
        if (removed) {
            LOG.info("no longer exporting {}", iqn);
        }
        return removed;
    }

    /** The address the server listens on (the real port when port 0 was configured). */
    public InetSocketAddress localAddress() {
        return context.boundPortal();
    }

    /** Bytes of the shared in-flight data budget not in use right now. */
    public long availableBudgetBytes() {
        return context.budget().availableBytes();
    }

    /**
     * Goes silent: every connection stays open but nothing is read, written, accepted or timed
     * out until {@link #resume} (see {@link TargetPause}). For fault drills.
     */
    public void pause() {
        context.pause().pause();
        LOG.info("target on {} paused: answering nothing", context.boundPortal());
    }

    /** Ends a {@link #pause}. */
    public void resume() {
        context.pause().resume();
        LOG.info("target on {} resumed", context.boundPortal());
    }

    /** Connections currently open. */
    public int connectionCount() {
        return connections.size();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = listener.accept();
                context.pause().awaitRunning();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("accept failed: {}", e.toString());
                }
                return;
            }
            InetAddress from = clientAddress(channel);
            int perAddressCap = context.tuning().maxConnectionsPerAddress();
            if (connections.size() >= context.tuning().maxConnections()) {
                refusals.refused(ConnectionRefusals.Cap.TOTAL, from, perAddressCap);
                closeQuietly(channel);
                continue;
            }
            if (perAddress.merge(from, 1, Integer::sum) > perAddressCap) {
                release(from);
                refusals.refused(ConnectionRefusals.Cap.PER_ADDRESS, from, perAddressCap);
                closeQuietly(channel);
                continue;
            }
            TargetConnection connection = new TargetConnection(context, channel);
            connections.add(connection);
            try {
                Thread.ofPlatform().daemon().name("iscsi-reader").start(() -> {
                    try {
                        connection.run();
                    } finally {
                        connections.remove(connection);
                        release(from);
                    }
                });
            } catch (RuntimeException | OutOfMemoryError e) {
                // No thread for it (the machine is out of them): drop this one, keep accepting.
                connections.remove(connection);
                release(from);
                connection.close();
                LOG.warn("cannot start a connection thread: {}", e.toString());
            }
        }
    }

    private void release(final InetAddress from) {
        perAddress.computeIfPresent(from, (k, n) -> n <= 1 ? null : n - 1);
    }

    private static InetAddress clientAddress(final SocketChannel channel) {
        try {
            return channel.getRemoteAddress() instanceof InetSocketAddress a ? a.getAddress()
                    : InetAddress.getLoopbackAddress();
        } catch (IOException e) {
            return InetAddress.getLoopbackAddress(); // already closed; it counts against loopback briefly
        }
    }

    /** Connections open from {@code address} now. */
    public int connectionsFrom(final InetAddress address) {
        return perAddress.getOrDefault(address, 0);
    }

    private void tick() {
        refusals.flush(context.tuning().maxConnectionsPerAddress());
        if (context.pause().paused()) {
            return;
        }
        long now = System.nanoTime();
        for (TargetConnection c : connections) {
            try {
                c.tick(now);
            } catch (RuntimeException e) {
                LOG.warn("timer check failed", e);
            }
        }
    }

    /** Stops listening, closes every connection and waits briefly for command workers. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        context.pause().resume(); // paused readers and writers must see their connections close
        closed = true;
        closeQuietly(listener);
        timer.shutdownNow();
        for (TargetConnection c : connections) {
            c.close();
        }
        context.workers().shutdown();
        try {
            if (!context.workers().awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("commands still running at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("iSCSI target on {} stopped", context.boundPortal());
    }

    private static void closeQuietly(final java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
    }
}
