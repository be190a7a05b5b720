package dev.virtman.block.cache;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * Time as the fail-over stage reads it and waits on it: {@link #SYSTEM} in agents, a hand-driven
 * clock in tests, so a test decides when a deadline has passed instead of sleeping past it.
 */
public interface FetchClock {
    /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Waits on {@code condition} (its {@code lock} held by the caller) until it is signalled or
     * this clock reaches {@code deadlineNanos}; may return early (callers re-check in a loop).
     */
    void awaitUntil(Lock lock, Condition condition, long deadlineNanos) throws InterruptedException;

    /** The machine's monotonic clock. */
    FetchClock SYSTEM = new FetchClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void awaitUntil(final Lock lock, final Condition condition, final long deadlineNanos)
                throws InterruptedException {
            long wait = deadlineNanos - System.nanoTime();
            if (wait > 0) {
                condition.awaitNanos(wait);
            }
        }
    };

    /** Sleeps until this clock reaches {@code deadlineNanos}. */
    default void sleepUntil(final long deadlineNanos) throws InterruptedException {
        Lock lock = new java.util.concurrent.locks.ReentrantLock();
        Condition never = lock.newCondition();
        lock.lock();
        try {
            while (nanoTime() - deadlineNanos < 0) {
                awaitUntil(lock, never, deadlineNanos);
            }
        } finally {
            lock.unlock();
        }
    }
}
