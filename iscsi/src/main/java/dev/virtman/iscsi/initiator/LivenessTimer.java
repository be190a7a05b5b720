package dev.virtman.iscsi.initiator;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one timer thread every {@link IscsiSession} in this JVM ticks on (NOP-Out keep-alives and
 * command deadlines, RFC 7143 §11.18). A tick only compares clocks and hands any send to a
 * virtual thread, so one thread serves thousands of sessions; a thread per session cost 1,100
 * platform threads in a 1,000-VM boot storm for work that takes microseconds a second.
 */
final class LivenessTimer {
    private static final ScheduledThreadPoolExecutor TIMER = create();

    private LivenessTimer() {
    }

    private static ScheduledThreadPoolExecutor create() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "iscsi-initiator-timer");
            thread.setDaemon(true);
            return thread;
        });
        // Closed sessions cancel their tick; without this the cancelled tasks would stay queued.
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** Runs {@code tick} every {@code periodMillis} until the returned future is cancelled. */
    static ScheduledFuture<?> every(final long periodMillis, final Runnable tick) {
        return TIMER.scheduleWithFixedDelay(tick, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }
}
