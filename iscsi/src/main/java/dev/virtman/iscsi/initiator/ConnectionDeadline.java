package dev.virtman.iscsi.initiator;

import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds a blocking connect or login by closing the socket when time runs out, instead of a
 * socket timeout ({@code SO_TIMEOUT}, or {@code connect} with a timeout).
 *
 * <p>Why: the JDK serves a timed socket operation by switching the socket to non-blocking mode
 * for good, after which every blocking read of the session is a failed {@code read}, a
 * {@code poll} and a second {@code read}: in the storm profile of issue 16 that {@code poll}
 * alone was 5 % of the CPU samples. A plain blocking socket needs one {@code read} per wake-up.
 * Closing the socket from another thread unblocks a blocked connect or read, which then fails;
 * {@link #expired()} tells the caller that the deadline was the cause.
 */
final class ConnectionDeadline implements AutoCloseable {
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final AtomicBoolean expired = new AtomicBoolean();
    private final ScheduledFuture<?> task;

    private ConnectionDeadline(final Closeable victim, final Duration timeout) {
        this.task = TIMER.schedule(() -> {
            expired.set(true);
            try {
                victim.close();
            } catch (java.io.IOException ignored) {
                // closing is best effort; the blocked operation fails either way
            }
        }, Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
    }

    /** Closes {@code victim} if this deadline is not closed within {@code timeout}. */
    static ConnectionDeadline after(final Duration timeout, final Closeable victim) {
        return new ConnectionDeadline(victim, timeout);
    }

    /** Whether time ran out (and the socket was closed). */
    boolean expired() {
        return expired.get();
    }

    /** Cancels the deadline; the operation finished in time (or failed on its own). */
    @Override
    public void close() {
        task.cancel(false);
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("iscsi-connect-deadline").factory());
        t.setRemoveOnCancelPolicy(true);
        return t;
    }
}
