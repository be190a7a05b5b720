package dev.virtman.block.cache;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link FetchClock} that moves only when a test calls {@link #advance}: deadlines pass when the
 * test says so, never because the machine was slow. {@link #awaitWaiters} tells the test that the
 * code under test has reached a wait at the current time, so it can assert and advance again.
 */
final class ManualFetchClock implements FetchClock {
    /** A thread waiting in {@link #awaitUntil}, and the clock generation it saw. */
    private record Waiter(Lock lock, Condition condition, long generation) { }

    private final ReentrantLock state = new ReentrantLock();
    private final Condition changed = state.newCondition();
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
    private volatile long now = 1_000_000_000L;
    private volatile long generation;

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public void awaitUntil(final Lock lock, final Condition condition, final long deadlineNanos)
            throws InterruptedException {
        Waiter w = new Waiter(lock, condition, generation);
        waiters.add(w);
        signalChanged();
        try {
            // Checked after registering, so an advance in between is never missed.
            if (now - deadlineNanos < 0) {
                condition.await();
            }
        } finally {
            waiters.remove(w);
        }
    }

    /** Moves time forward and wakes every waiter to look at it. */
    void advance(final Duration d) {
        now += d.toNanos();
        generation++;
        for (Waiter w : waiters) {
            w.lock().lock();
            try {
                w.condition().signalAll();
            } finally {
                w.lock().unlock();
            }
        }
        signalChanged();
    }

    /** Waits (10 s at most, real time) until {@code n} threads wait on this clock at its current time. */
    void awaitWaiters(final int n) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        state.lock();
        try {
            while (current() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(current() + " of " + n + " threads waiting on the clock");
                }
                changed.awaitNanos(left);
            }
        } finally {
            state.unlock();
        }
    }

    private long current() {
        long g = generation;
        return waiters.stream().filter(w -> w.generation() == g).count();
    }

    private void signalChanged() {
        state.lock();
        try {
            changed.signalAll();
        } finally {
            state.unlock();
        }
    }
}
