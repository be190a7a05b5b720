package dev.virtman.testing;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Polls a probe until its value satisfies a condition, or fails with the last value seen: a
 * bounded wait for something another process does, instead of sleeping and hoping.
 */
public final class Await {
    private static final Duration POLL = Duration.ofMillis(100);

    private Await() {
    }

    /**
     * Returns the first value of {@code probe} that {@code done} accepts; a probe that throws counts
     * as not done yet.
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
            FreePorts.sleep(POLL);
        }
    }
}
