package dev.virtman.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The system clock plus an offset a test moves: time passes as usual for everything that runs in
 * real time (agents' heartbeat loops, timers), and {@link #advance} makes a given span pass at
 * once for whoever reads this clock, instead of the test sleeping through it.
 */
public final class OffsetClock implements InstantSource {
    private final AtomicLong offsetNanos = new AtomicLong();

    /** Everything reading this clock sees {@code span} more time gone by, from now on. */
    public void advance(final Duration span) {
        offsetNanos.addAndGet(span.toNanos());
    }

    @Override
    public Instant instant() {
        return Instant.now().plusNanos(offsetNanos.get());
    }

    @Override
    public long millis() {
        return System.currentTimeMillis() + offsetNanos.get() / 1_000_000;
    }
}
