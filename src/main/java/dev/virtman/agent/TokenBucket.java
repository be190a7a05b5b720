package dev.virtman.agent;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A token bucket that paces byte traffic to a rate: the bandwidth cap on an agent's upstream
 * (fetches from parents) or downstream (reads served to VMs and child agents).
 *
 * <p>Design: tokens are bytes; the bucket refills at {@code bytesPerSecond} up to {@code burst}.
 * A caller takes what it needs at once and may drive the balance negative ("debt"); it then
 * sleeps, outside the lock, until the debt would be repaid. Later callers see the debt and wait
 * behind it, so concurrent readers share the rate in arrival order and a single large request is
 * never starved by small ones. Nothing is persisted: a restarted agent starts with a full burst.
 */
public final class TokenBucket {
    private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

    private final long bytesPerSecond;
    private final long burst;
    private final LongSupplier nanoClock;
    private double tokens;
    private long lastRefillNanos;

    /**
     * @param bytesPerSecond sustained rate, positive
     * @param burst          most bytes that may pass at once after an idle period, positive
     */
    public TokenBucket(final long bytesPerSecond, final long burst) {
        this(bytesPerSecond, burst, System::nanoTime);
    }

    /** With {@code nanoClock} in place of {@link System#nanoTime()} (tests). */
    TokenBucket(final long bytesPerSecond, final long burst, final LongSupplier nanoClock) {
        if (bytesPerSecond <= 0 || burst <= 0) {
            throw new IllegalArgumentException("rate and burst must be positive");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
        this.tokens = burst;
        this.lastRefillNanos = nanoClock.getAsLong();
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Takes {@code bytes} tokens, waiting as long as the rate requires. */
    public void acquire(final long bytes) throws InterruptedIOException {
        long waitNanos = reserve(bytes);
        if (waitNanos > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for bandwidth");
            }
        }
    }

    /** Takes the tokens now and returns how long the caller must wait before using them. */
    synchronized long reserve(final long bytes) {
        long now = nanoClock.getAsLong();
        tokens = Math.min(burst, tokens + (now - lastRefillNanos) * (double) bytesPerSecond / NANOS_PER_SECOND);
        lastRefillNanos = now;
        tokens -= bytes;
        return tokens >= 0 ? 0 : (long) (-tokens * NANOS_PER_SECOND / bytesPerSecond);
    }
}
