package dev.virtman.block.cache;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The decision half of {@link ParentSet}: which parent to ask first, given each parent's recent
 * failures. No I/O, no metrics, no clock of its own: the caller passes "now", so an agent passes
 * {@link System#nanoTime()} and the boot-storm simulation ({@code dev.virtman.sim}) passes its
 * simulated time, and both get the same order from the same history.
 *
 * <p>Parents are numbered 0..n-1 in the manager's preference order (nearest first, the source
 * last). A failed parent goes to the back for a cool-down that doubles with each consecutive
 * failure, up to {@value #MAX_COOLDOWN_DOUBLINGS} doublings, so one bad parent costs one timeout,
 * not one per chunk; it is still tried when every healthier parent has failed. Thread-safe.
 */
public final class ParentHealth {
    /** Longest cool-down as a multiple of the base cool-down is 2 to this power. */
    public static final int MAX_COOLDOWN_DOUBLINGS = 6;

    private final long cooldownNanos;
    private final AtomicIntegerArray consecutiveFailures;
    private final AtomicLongArray cooldownUntilNanos;

    /**
     * @param parents       number of parents
     * @param cooldownNanos base cool-down after a failure
     * @param nowNanos      the caller's clock now (every parent starts healthy)
     */
    public ParentHealth(final int parents, final long cooldownNanos, final long nowNanos) {
        if (parents < 1) {
            throw new IllegalArgumentException("need at least one parent");
        }
        if (cooldownNanos < 0) {
            throw new IllegalArgumentException("cool-down must be >= 0");
        }
        this.cooldownNanos = cooldownNanos;
        this.consecutiveFailures = new AtomicIntegerArray(parents);
        this.cooldownUntilNanos = new AtomicLongArray(parents);
        for (int i = 0; i < parents; i++) {
            cooldownUntilNanos.set(i, nowNanos);
        }
    }

    public int size() {
        return consecutiveFailures.length();
    }

    /** Healthy parents in preference order, then cooling-down ones, soonest-recovered first. */
    public int[] attemptOrder(final long nowNanos) {
        int n = size();
        int[] order = new int[n];
        int healthy = 0;
        Integer[] cooling = new Integer[n];
        int coolingCount = 0;
        for (int p = 0; p < n; p++) {
            // A parent whose last attempt succeeded is healthy whatever its cool-down stamp says:
            // recordSuccess on another thread stamps a time that can be later than this "now",
            // which would otherwise demote a healthy parent behind the next one.
            if (consecutiveFailures.get(p) > 0 && cooldownUntilNanos.get(p) - nowNanos > 0) {
                cooling[coolingCount++] = p;
            } else {
                order[healthy++] = p;
            }
        }
        // Stable sort: parents recovering at the same moment keep their preference order.
        Arrays.sort(cooling, 0, coolingCount, (a, b) -> Long.compare(cooldownUntilNanos.get(a) - nowNanos,
                cooldownUntilNanos.get(b) - nowNanos));
        for (int i = 0; i < coolingCount; i++) {
            order[healthy + i] = cooling[i];
        }
        return order;
    }

    /** Whether {@code parent} is cooling down at {@code nowNanos}. */
    public boolean coolingDown(final int parent, final long nowNanos) {
        return consecutiveFailures.get(parent) > 0 && cooldownUntilNanos.get(parent) - nowNanos > 0;
    }

    public void recordSuccess(final int parent, final long nowNanos) {
        consecutiveFailures.set(parent, 0);
        cooldownUntilNanos.set(parent, nowNanos);
    }

    /** Puts {@code parent} to the back for the base cool-down doubled per consecutive failure. */
    public void recordFailure(final int parent, final long nowNanos) {
        int n = Math.min(consecutiveFailures.incrementAndGet(parent), MAX_COOLDOWN_DOUBLINGS + 1);
        long pause = cooldownNanos << (n - 1);
        cooldownUntilNanos.set(parent, nowNanos + pause);
    }
}
