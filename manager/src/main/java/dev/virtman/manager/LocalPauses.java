package dev.virtman.manager;

import java.util.function.LongSupplier;

/**
 * How long the failure detector was kept from running beyond its period: time in which the
 * manager itself could not listen (a GC pause, a CPU-starved machine, a suspended VM), so agents'
 * pings sat unread in socket buffers and silence proves nothing about the hosts. The detector
 * does not count that time against anybody (Cassandra's failure detector skips a round after a
 * local pause for the same reason).
 *
 * <p>Measured on a monotonic clock between the end of one pass and the start of the next, which
 * the detector's own thread schedules one period apart: the lock wait inside a pass does not
 * count (arrivals are noted outside the lock), only the process not running its timer. One period
 * of lateness is ordinary jitter and is not credited. Not thread-safe: the detector's thread only.
 */
final class LocalPauses {

    private final LongSupplier nanos;
    private final long periodNanos;
    private long lastPassEnd;
    private boolean passed;

    /**
     * @param nanos       monotonic clock (System::nanoTime; tests pass their own)
     * @param periodNanos the detector's period
     */
    LocalPauses(final LongSupplier nanos, final long periodNanos) {
        this.nanos = nanos;
        this.periodNanos = periodNanos;
    }

    /** A pass starts: milliseconds it started late beyond the tolerance (0 on the first pass). */
    long passStarting() {
        if (!passed) {
            return 0;
        }
        long late = nanos.getAsLong() - lastPassEnd - 2 * periodNanos;
        return late > 0 ? late / 1_000_000 : 0;
    }

    /** A pass ended; the next one is due one period from now. */
    void passEnded() {
        lastPassEnd = nanos.getAsLong();
        passed = true;
    }
}
