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
 * ({@code virtman_iscsi_target_connections_refused_total{cap=total|per-address}}), and logins
 * refused because the target's allow list does not name the initiator
 * ({@code virtman_iscsi_target_logins_refused_total{reason=not-authorized}}), logged at most once
 * per interval as one line with the counts and the address that was refused most.
 * A line per refusal let 1,100 reconnecting sockets write 61 MB of log in 35 s: the log is a
 * resource an attacker must not be able to fill.
 */
final class ConnectionRefusals {
    private static final Logger LOG = LoggerFactory.getLogger(IscsiTargetServer.class);
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    /** Which cap refused a connection. */
    enum Cap {
        TOTAL("total"), PER_ADDRESS("per-address"),
        /** Not a cap: a login refused with "initiator not authorized" (status 0x0202). */
        NOT_AUTHORIZED("not-authorized");

        final String tag;

        Cap(final String tag) {
            this.tag = tag;
        }
    }

    private final Counter total;
    private final Counter perAddress;
    private final Counter notAuthorized;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<InetAddress, Integer> byAddress = new HashMap<>();
    private long pendingTotal;
    private long pendingPerAddress;
    private long pendingNotAuthorized;
    private long lastLine;
    private boolean logged;

    ConnectionRefusals(final MeterRegistry registry, final Duration interval, final LongSupplier nanoClock) {
        this.total = counter(registry, Cap.TOTAL);
        this.perAddress = counter(registry, Cap.PER_ADDRESS);
        this.notAuthorized = Counter.builder("virtman.iscsi.target.logins.refused").tag("reason", Cap.NOT_AUTHORIZED.tag)
                .description("logins refused because no allow list of the target names the initiator")
                .register(registry);
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    private static Counter counter(final MeterRegistry registry, final Cap cap) {
        return Counter.builder("virtman.iscsi.target.connections.refused").tag("cap", cap.tag)
                .description("connections closed at accept because a connection cap was reached").register(registry);
    }

    /** Notes one refused connection; logs the interval's line if one is due. */
    synchronized void refused(final Cap cap, final InetAddress from, final int limit) {
        switch (cap) {
            case TOTAL -> {
                total.increment();
                pendingTotal++;
            }
            case PER_ADDRESS -> {
                perAddress.increment();
                pendingPerAddress++;
            }
            case NOT_AUTHORIZED -> {
                notAuthorized.increment();
                pendingNotAuthorized++;
            }
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
        long pending = pendingTotal + pendingPerAddress + pendingNotAuthorized;
        if (pending == 0) {
            return;
        }
        long now = nanoClock.getAsLong();
        if (!force && logged && now - lastLine < intervalNanos) {
            return;
        }
        Map.Entry<InetAddress, Integer> top = byAddress.entrySet().stream().max(Map.Entry.comparingByValue()).orElse(null);
        LOG.warn("refused {} connection(s){}: {} over the total cap, {} over the per-address cap of {}, {} logins of"
                        + " initiators not authorized (most from {}: {})",
                pending, logged ? " in the last " + Duration.ofNanos(now - lastLine).toSeconds() + " s" : "",
                pendingTotal, pendingPerAddress, limit, pendingNotAuthorized,
                top == null ? "?" : top.getKey().getHostAddress(), top == null ? 0 : top.getValue());
        pendingTotal = 0;
        pendingPerAddress = 0;
        pendingNotAuthorized = 0;
        byAddress.clear();
        lastLine = now;
        logged = true;
    }
}
