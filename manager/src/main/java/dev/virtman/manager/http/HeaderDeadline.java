package dev.virtman.manager.http;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes HTTP connections whose request headers are still incomplete {@code timeout} after this
 * sweep first saw them started: the slowloris (a header byte every few seconds keeps an idle
 * timeout from ever firing) and the half-sent request. Jetty parses headers on its selector
 * without a thread, so such clients cost no thread here; this bound stops them from holding
 * connection slots for ever. Connections waiting for their next request (parser at its start)
 * are the idle timeout's business; upgraded connections (agent streams) are not HTTP/1 any more
 * and never match.
 *
 * <p>Jetty has no per-request header deadline of its own; the parser state is read from its
 * {@link HttpConnection} (an internal class, hence this one small adapter).
 */
final class HeaderDeadline implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(HeaderDeadline.class);

    private final ServerConnector connector;
    private final long timeoutNanos;
    private final LongSupplier nanoClock;
    /** When each connection was first seen mid-header; touched by the sweeping thread only. */
    private final Map<Connection, Long> startedAt = new HashMap<>();
    private long closed;

    HeaderDeadline(final ServerConnector connector, final Duration timeout, final LongSupplier nanoClock) {
        this.connector = connector;
        this.timeoutNanos = timeout.toNanos();
        this.nanoClock = nanoClock;
    }

    /** Sweeps every {@code timeout / 4} (at least every second) on {@code scheduler}. */
    void schedule(final ScheduledExecutorService scheduler) {
        long period = Math.max(50, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 4));
        scheduler.scheduleWithFixedDelay(this, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.warn("header deadline sweep failed; next sweep retries", e);
        }
    }

    void sweep() {
        long now = nanoClock.getAsLong();
        Map<Connection, Long> seen = new HashMap<>();
        for (EndPoint endPoint : connector.getConnectedEndPoints()) {
            if (!(endPoint.getConnection() instanceof HttpConnection http)) {
                continue;
            }
            var parser = http.getParser();
            if (parser.isStart() || !parser.inHeaderState()) {
                continue;
            }
            long since = startedAt.getOrDefault(http, now);
            if (now - since >= timeoutNanos) {
                closed++;
                LOG.debug("closing {}: request headers incomplete after {}", endPoint.getRemoteSocketAddress(),
                        Duration.ofNanos(now - since));
                endPoint.close();
                continue;
            }
            seen.put(http, since);
        }
        startedAt.clear();
        startedAt.putAll(seen);
    }

    /** Connections closed so far for incomplete headers. */
    long closed() {
        return closed;
    }
}
