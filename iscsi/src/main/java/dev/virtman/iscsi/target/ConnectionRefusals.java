package dev.virtman.iscsi.target;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections the server closed at accept because a cap was reached, counted in a metric
 * ({@code virtman_iscsi_target_connections_refused_total{cap=total|per-address}}) and logged at
 * most once per interval as one line with the counts and the address that was refused most.
 * A line per refusal let 1,100 reconnecting sockets write 61 MB of log in 35 s: the log is a
 * resource an attacker must not be able to fill.
 */
final class ConnectionRefusals {
    private static final Logger LOG = LoggerFactory.getLogger(IscsiTargetServer.class);
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    /** Which cap refused a connection. */
    enum Cap {
        TOTAL("total"), PER_ADDRESS("per-address");

        final String tag;

        Cap(final String tag) {
            this.tag = tag;
        }
    }

    private final Counter total;
    private final Counter perAddress;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<InetAddress, Integer> byAddress = new HashMap<>();
    private long pendingTotal;
    private long pendingPerAddress;
    private long lastLine;
    private boolean logged;

    ConnectionRefusals(final MeterRegistry registry, final Duration interval, final LongSupplier nanoClock) {
        this.total = counter(registry, Cap.TOTAL);
        this.perAddress = counter(registry, Cap.PER_ADDRESS);
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    private static Counter counter(final MeterRegistry registry, final Cap cap) {
        return Counter.builder("virtman.iscsi.target.connections.refused").tag("cap", cap.tag)
                .description("connections closed at accept because a connection cap was reached").register(registry);
    }

    /** Notes one refused connection; logs the interval's line if one is due. */
    synchronized void refused(final Cap cap, final InetAddress from, final int limit) {
        (cap == Cap.TOTAL ? total : perAddress).increment();
        if (cap == Cap.TOTAL) {
            pendingTotal++;
        } else {
            pendingPerAddress++;
        }
        if (byAddress.size() < 1024 || byAddress.containsKey(from)) {
            byAddress.merge(from, 1, Integer::sum);
        }
        flush(limit, false);
    }

    /** Logs what is pending once the interval has passed since the last line (the server's timer calls this). */
    synchronized void flush(final int limit) {
        flush(limit, false);
    }

    private void flush(final int limit, final boolean force) {
        long pending = pendingTotal + pendingPerAddress;
        if (pending == 0) {
            return;
        }
        long now = nanoClock.getAsLong();
        if (!force && logged && now - lastLine < intervalNanos) {
            return;
        }
        Map.Entry<InetAddress, Integer> top = byAddress.entrySet().stream().max(Map.Entry.comparingByValue()).orElse(null);
        LOG.warn("refused {} connection(s){}: {} over the total cap, {} over the per-address cap of {} (most from {}: {})",
                pending, logged ? " in the last " + Duration.ofNanos(now - lastLine).toSeconds() + " s" : "",
                pendingTotal, pendingPerAddress, limit, top == null ? "?" : top.getKey().getHostAddress(),
                top == null ? 0 : top.getValue());
        pendingTotal = 0;
        pendingPerAddress = 0;
        byAddress.clear();
        lastLine = now;
        logged = true;
    }
}
