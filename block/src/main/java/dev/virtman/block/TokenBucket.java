package dev.virtman.block;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;

/**
 * A byte-rate limit shared by everything that draws from it (all parents of an agent for the
 * upstream cap, all exports for the downstream cap).
 *
 * <p>Tokens accrue at {@code bytesPerSecond} up to {@code burstBytes}. A request takes its bytes at
 * once and may drive the balance negative; the caller then sleeps until the debt is paid. So a
 * request larger than the burst still passes (no deadlock on a 1 MiB read with a 64 KiB burst),
 * the long-run rate is exact, and waiting callers are served in the order they asked.
 * Nothing is persisted.
 */
public final class TokenBucket {
    private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

    /** Time source and sleeper, replaceable in tests. */
    interface Clock {
        long nanoTime();

        void sleepNanos(long nanos) throws InterruptedException;

        Clock SYSTEM = new Clock() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public void sleepNanos(final long nanos) throws InterruptedException {
                TimeUnit.NANOSECONDS.sleep(nanos);
            }
        };
    }

    private final long bytesPerSecond;
    private final long burstBytes;
    private final Clock clock;
    private long tokens;
    private long lastRefill;
    /** Sub-token remainder of the last refill, in byte-nanoseconds, so slow rates do not round to zero. */
    private long remainder;

    public TokenBucket(final long bytesPerSecond, final long burstBytes) {
        this(bytesPerSecond, burstBytes, Clock.SYSTEM);
    }

    TokenBucket(final long bytesPerSecond, final long burstBytes, final Clock clock) {
        if (bytesPerSecond <= 0 || burstBytes <= 0) {
            throw new IllegalArgumentException("rate and burst must be positive");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.burstBytes = burstBytes;
        this.clock = clock;
        this.tokens = burstBytes;
        this.lastRefill = clock.nanoTime();
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Takes {@code bytes} tokens, sleeping as long as the rate requires. */
    public void acquire(final long bytes) throws InterruptedIOException {
        long waitNanos = reserve(bytes);
        if (waitNanos > 0) {
            try {
                clock.sleepNanos(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while rate limited");
            }
        }
    }

    /** Takes the tokens now; returns how long the caller must wait before using them. */
    synchronized long reserve(final long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative byte count " + bytes);
        }
        refill();
        tokens -= bytes;
        if (tokens >= 0) {
            return 0;
        }
        return Math.multiplyHigh(-tokens, NANOS_PER_SECOND) != 0 ? Long.MAX_VALUE
                : (-tokens * NANOS_PER_SECOND + bytesPerSecond - 1) / bytesPerSecond;
    }

    private void refill() {
        long now = clock.nanoTime();
        long elapsed = now - lastRefill;
        lastRefill = now;
        if (elapsed <= 0) {
            return;
        }
        // bytes = elapsed * rate / 1e9, keeping the remainder; saturate long idle periods.
        long product;
        if (Math.multiplyHigh(elapsed, bytesPerSecond) != 0) {
            tokens = burstBytes;
            remainder = 0;
            return;
        }
        product = elapsed * bytesPerSecond + remainder;
        long added = product / NANOS_PER_SECOND;
        remainder = product % NANOS_PER_SECOND;
        tokens = Math.min(burstBytes, tokens + added);
        if (tokens == burstBytes) {
            remainder = 0;
        }
    }
}
