package dev.virtman.block.cache;

import java.time.Duration;

/**
 * When {@link ParentFailover} stops waiting for one parent alone and asks the next one too.
 *
 * <p>A parent's hedge deadline is {@code multiplier} times a high percentile ({@code percentile})
 * of its last {@code window} answer times, clamped to [{@code minDeadline}, the attempt timeout];
 * before it has answered {@code window / 4} times it is {@code initialDeadline}. A parent that
 * has answered nothing for {@code max(silentAfter, silentMultiplier × its deadline)} while reads
 * to it were outstanding is <em>silent</em>: reported to the manager, not merely hedged around.
 *
 * @param enabled          false: one parent at a time, each for the whole attempt timeout (the old behaviour)
 * @param budgetRatio      hedges allowed per request, on average (token bucket refilled per request)
 * @param budgetBurst      most hedges allowed back to back (the bucket's size)
 */
public record HedgePolicy(boolean enabled, Duration initialDeadline, Duration minDeadline, double percentile,
                          double multiplier, int window, double budgetRatio, double budgetBurst,
                          Duration silentAfter, double silentMultiplier) {
    /**
     * Loopback and LAN defaults. A 32-64 KiB chunk takes well under a millisecond from a healthy
     * idle parent and tens to hundreds of milliseconds from a busy one; 3 × p95 hedges only the
     * real tail. 3 % of requests as hedges keeps a tree's extra source traffic within a few percent
     * even if every hedge went to the source. Silence: at least a second of no answer at all.
     */
    public static final HedgePolicy DEFAULT = new HedgePolicy(true, Duration.ofMillis(500), Duration.ofMillis(20),
            0.95, 3.0, 64, 0.03, 10, Duration.ofSeconds(1), 4);

    /** No hedging: each parent gets the whole attempt timeout before the next is asked. */
    public static final HedgePolicy OFF = DEFAULT.withEnabled(false);

    public HedgePolicy {
        if (initialDeadline.isNegative() || initialDeadline.isZero() || minDeadline.isNegative()
                || minDeadline.isZero()) {
            throw new IllegalArgumentException("hedge deadlines must be positive");
        }
        if (!(percentile > 0 && percentile <= 1) || !(multiplier >= 1) || window < 4) {
            throw new IllegalArgumentException("need 0 < percentile <= 1, multiplier >= 1, window >= 4");
        }
        if (!(budgetRatio >= 0 && budgetRatio <= 1) || !(budgetBurst >= 1)) {
            throw new IllegalArgumentException("need 0 <= budgetRatio <= 1 and budgetBurst >= 1");
        }
        if (silentAfter.isNegative() || silentAfter.isZero() || !(silentMultiplier >= 1)) {
            throw new IllegalArgumentException("need silentAfter > 0 and silentMultiplier >= 1");
        }
    }

    public HedgePolicy withEnabled(final boolean on) {
        return new HedgePolicy(on, initialDeadline, minDeadline, percentile, multiplier, window, budgetRatio,
                budgetBurst, silentAfter, silentMultiplier);
    }

    public HedgePolicy withBudget(final double ratio, final double burst) {
        return new HedgePolicy(enabled, initialDeadline, minDeadline, percentile, multiplier, window, ratio, burst,
                silentAfter, silentMultiplier);
    }
}
