package dev.virtman.iscsi.target;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The server-wide bound on data bytes held for commands in flight (read results waiting to be
 * sent, write buffers being filled). Every session draws from it, so a hundred sessions with
 * deep queues cannot exhaust the heap; a command that cannot get its share waits (reads) or is
 * answered BUSY (writes, whose data the connection's reader must keep draining).
 * Accounting is in KiB so the semaphore's int permits cover terabytes.
 */
final class InFlightBudget {

    private static final int UNIT_SHIFT = 10;

    private final Semaphore permits;
    private final int totalUnits;

    InFlightBudget(final long bytes) {
        this.totalUnits = (int) Math.min(Integer.MAX_VALUE, Math.max(1, bytes >> UNIT_SHIFT));
        this.permits = new Semaphore(totalUnits);
    }

    /** Units needed for {@code bytes}, capped at the whole budget so any command can proceed alone. */
    int unitsFor(final long bytes) {
        long units = (bytes + (1 << UNIT_SHIFT) - 1) >> UNIT_SHIFT;
        return (int) Math.min(totalUnits, units);
    }

    /** Waits for {@code units}; false if interrupted. */
    boolean acquire(final int units) {
        if (units == 0) {
            return true;
        }
        try {
            permits.acquire(units);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Takes {@code units} if they are available within {@code millis}. */
    boolean tryAcquire(final int units, final long millis) {
        if (units == 0) {
            return true;
        }
        try {
            return permits.tryAcquire(units, millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    void release(final int units) {
        if (units > 0) {
            permits.release(units);
        }
    }

    long availableBytes() {
        return (long) permits.availablePermits() << UNIT_SHIFT;
    }
}
