package dev.virtman.testing;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one way a test waits for something another thread does: poll a condition until it holds,
 * and fail with what was awaited (and the last value seen) when it does not within a bound. A
 * test that instead sleeps a guessed time and then asserts is slow when the guess is generous
 * and flaky when the machine is loaded; this waits exactly as long as needed and names the
 * condition that did not come.
 */
public final class Await {

    /** The bound when a test gives none: generous, because a loaded CI machine is slow, never hung. */
    public static final Duration DEFAULT_LIMIT = Duration.ofSeconds(30);
    /** Polls start this far apart and double up to {@link #MAX_POLL_NANOS}: quick to see, cheap to wait. */
    private static final long FIRST_POLL_NANOS = Duration.ofMillis(1).toNanos();
    private static final long MAX_POLL_NANOS = Duration.ofMillis(100).toNanos();
    private static final long PROBE_POLL_MILLIS = 100;

    private Await() {
    }

    /** Waits until {@code condition} holds, at most {@link #DEFAULT_LIMIT}. */
    public static void until(final BooleanSupplier condition, final String what) {
        until(condition, DEFAULT_LIMIT, what);
    }

    /** Waits until {@code condition} holds; an {@link AssertionError} naming {@code what} after {@code limit}. */
    public static void until(final BooleanSupplier condition, final Duration limit, final String what) {
        long deadline = System.nanoTime() + limit.toNanos();
        long poll = FIRST_POLL_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            poll = pause(poll);
        }
    }

    /**
     * Returns the first value of {@code probe} that {@code done} accepts; a probe that throws counts
     * as not done yet. Polls every {@value #PROBE_POLL_MILLIS} ms: a probe may be a request to
     * another process.
     *
     * @throws AssertionError after {@code timeout}, naming {@code what} and the last value or failure
     */
    public static <T> T until(final String what, final Duration timeout, final Supplier<T> probe,
                              final Predicate<? super T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Object last = null;
        while (true) {
            try {
                T value = probe.get();
                if (done.test(value)) {
                    return value;
                }
                last = value;
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not " + what + " within " + timeout + "; last: " + last);
            }
            FreePorts.sleep(Duration.ofMillis(PROBE_POLL_MILLIS));
        }
    }

    /**
     * Whether some thread is parked (waiting, or sleeping with a timeout) with {@code method} of
     * a class whose simple name is {@code className} on its stack: how a test knows that another
     * thread has reached a blocking point, instead of sleeping and hoping it has.
     */
    public static boolean parkedIn(final String className, final String method) {
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            Thread.State state = e.getKey().getState();
            if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
                continue;
            }
            for (StackTraceElement frame : e.getValue()) {
                String cls = frame.getClassName();
                String simple = cls.substring(cls.lastIndexOf('.') + 1);
                if (simple.equals(className) && frame.getMethodName().equals(method)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Sleeps {@code nanos}; returns the next, longer, pause. */
    private static long pause(final long nanos) {
        LockSupport.parkNanos(nanos);
        if (Thread.currentThread().isInterrupted()) {
            throw new AssertionError("interrupted while waiting");
        }
        return Math.min(nanos * 2, MAX_POLL_NANOS);
    }
}
