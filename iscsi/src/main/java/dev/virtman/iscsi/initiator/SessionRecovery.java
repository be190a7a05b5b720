package dev.virtman.iscsi.initiator;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Session reinstatement after a lost connection (RFC 7143 §6.3.5, ErrorRecoveryLevel 0): a
 * recovery thread reconnects with exponential backoff, logs in again with the session's ISID
 * and TSIH 0 (the target ends the old session), and has the session reissue every outstanding
 * command. When that does not succeed within {@link InitiatorOptions#recoveryTimeout()} the
 * session fails the commands that waited for it.
 */
final class SessionRecovery {

    private static final Logger LOG = LoggerFactory.getLogger(SessionRecovery.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

    private final IscsiSession session;
    private final String host;
    private final int port;
    private final String targetName;
    private final InitiatorOptions options;
    private final long isid;
    private final int loginCmdSN;
    private final AtomicInteger recoveries = new AtomicInteger();

    SessionRecovery(final IscsiSession session, final String host, final int port, final InitiatorOptions options,
                    final long isid, final int loginCmdSN) {
        this.session = session;
        this.host = host;
        this.port = port;
        this.targetName = session.targetName();
        this.options = options;
        this.isid = isid;
        this.loginCmdSN = loginCmdSN;
    }

    /** How many times the session was re-established. */
    int recoveries() {
        return recoveries.get();
    }

    /** Starts a recovery thread; the caller has just moved the session into RECOVERING. */
    Thread start() {
        Thread t = new Thread(this::recover, "iscsi-recovery-" + targetName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Reconnects with backoff until the recovery deadline. */
    private void recover() {
        long start = System.nanoTime();
        long deadline = start + options.recoveryTimeout().toNanos();
        Duration backoff = FIRST_BACKOFF;
        IOException last = session.lastFailure();
        int attempt = 0;
        while (session.state() == IscsiSession.State.RECOVERING) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                break;
            }
            attempt++;
            InitiatorConnection c = null;
            try {
                Duration left = Duration.ofNanos(remaining);
                c = InitiatorConnection.open(host, port, min(options.connectTimeout(), left));
                InitiatorOptions bounded = options.withTimeouts(options.connectTimeout(),
                        min(options.loginTimeout(), Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()))),
                        options.commandTimeout(), options.recoveryTimeout());
                NegotiatedParameters p = new InitiatorLogin(c, bounded, targetName, isid, loginCmdSN).login();
                session.reissueOn(c, p);
                recoveries.incrementAndGet();
                LOG.info("session to {} recovered on attempt {} after {} ms (TSIH {})", targetName, attempt,
                        (System.nanoTime() - start) / 1_000_000, p.tsih());
                return;
            } catch (IOException e) {
                last = e;
                if (c != null) {
                    c.close();
                }
                LOG.debug("recovery attempt {} for {} failed: {}", attempt, targetName, e.getMessage());
            } catch (RuntimeException e) {
                last = new IscsiException("internal error during recovery: " + e, e);
                if (c != null) {
                    c.close();
                }
                LOG.error("bug during recovery of {}", targetName, e);
            }
            long wait = Math.min(backoff.toNanos(), deadline - System.nanoTime());
            if (wait > 0 && !sleepNanos(wait)) {
                break;
            }
            backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
        }
        IscsiException failure = new IscsiException("lost the session to " + targetName + " at " + host + ":" + port
                + "; reconnecting failed (" + attempt + " attempts in " + (System.nanoTime() - start) / 1_000_000
                + " ms)" + (last != null ? ": " + last.getMessage() : ""), last);
        session.recoveryFailed(failure);
        LOG.warn("{}", failure.getMessage());
    }

    static Duration min(final Duration a, final Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    static boolean sleepNanos(final long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
