package dev.virtman.block.cache;

import java.time.Duration;

/**
 * How hard {@link ChunkFetcher} tries before giving up on a chunk.
 *
 * @param attemptTimeout longest one parent may take to deliver one chunk; a stalled parent is
 *                       abandoned after it and the next parent is asked
 * @param rounds         how many times the whole parent list is tried
 * @param backoff        pause after the first failed round; doubles each round up to {@code maxBackoff}
 * @param maxBackoff     longest pause between rounds
 * @param parentCooldown how long a failed parent goes to the back of the preference order
 *                       (doubling with consecutive failures, up to 64 times this)
 * @param maxOutstandingPerParent abandoned (timed-out, not yet returned) reads a parent may hold
 *                       before it is skipped: bounds the threads a parent that never answers can
 *                       pin; reads that are merely concurrent do not count
 * @param hedging        when a request also goes to the next parent before the first has answered
 *                       (the attempt timeout is then only the hard limit; see {@link HedgePolicy})
 */
public record FetchPolicy(Duration attemptTimeout, int rounds, Duration backoff, Duration maxBackoff,
                          Duration parentCooldown, int maxOutstandingPerParent, HedgePolicy hedging) {
    /** Defaults for a LAN tree: a 64 KiB chunk takes well under a millisecond on a healthy parent. */
    public static final FetchPolicy DEFAULT = new FetchPolicy(Duration.ofSeconds(5), 3,
            Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(1), 64);

    /** A policy with the default hedging. */
    public FetchPolicy(final Duration attemptTimeout, final int rounds, final Duration backoff,
                       final Duration maxBackoff, final Duration parentCooldown, final int maxOutstandingPerParent) {
        this(attemptTimeout, rounds, backoff, maxBackoff, parentCooldown, maxOutstandingPerParent,
                HedgePolicy.DEFAULT);
    }

    public FetchPolicy {
        if (attemptTimeout.isNegative() || attemptTimeout.isZero()) {
            throw new IllegalArgumentException("attempt timeout must be positive");
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be at least 1");
        }
        if (backoff.isNegative() || maxBackoff.compareTo(backoff) < 0 || parentCooldown.isNegative()) {
            throw new IllegalArgumentException("need 0 <= backoff <= maxBackoff and cooldown >= 0");
        }
        if (maxOutstandingPerParent < 1) {
            throw new IllegalArgumentException("maxOutstandingPerParent must be at least 1");
        }
        if (hedging == null) {
            throw new IllegalArgumentException("hedging policy required (HedgePolicy.OFF for none)");
        }
    }

    /**
     * Pause before round {@code round} (0-based) of trying the whole parent list: none before the
     * first, {@code backoff} before the second, doubling each round up to {@code maxBackoff}.
     * {@link ChunkFetcher} sleeps it; the boot-storm simulation schedules it.
     */
    public long pauseBeforeRoundNanos(final int round) {
        if (round <= 0) {
            return 0;
        }
        long pause = backoff.toNanos();
        for (int r = 1; r < round && pause < maxBackoff.toNanos(); r++) {
            pause *= 2;
        }
        return Math.min(pause, maxBackoff.toNanos());
    }

    public FetchPolicy withAttemptTimeout(final Duration timeout) {
        return new FetchPolicy(timeout, rounds, backoff, maxBackoff, parentCooldown, maxOutstandingPerParent, hedging);
    }

    public FetchPolicy withHedging(final HedgePolicy h) {
        return new FetchPolicy(attemptTimeout, rounds, backoff, maxBackoff, parentCooldown, maxOutstandingPerParent, h);
    }

    public FetchPolicy withRounds(final int n, final Duration firstBackoff) {
        return new FetchPolicy(attemptTimeout, n, firstBackoff, maxBackoff.compareTo(firstBackoff) < 0
                ? firstBackoff : maxBackoff, parentCooldown, maxOutstandingPerParent, hedging);
    }
}
