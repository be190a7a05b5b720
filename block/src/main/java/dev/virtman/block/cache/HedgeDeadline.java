package dev.virtman.block.cache;

import java.util.Arrays;

/**
 * One parent's hedge deadline, learned from its recent answer times: {@link HedgePolicy#multiplier}
 * times the {@link HedgePolicy#percentile} of the last {@link HedgePolicy#window} answers, clamped
 * to [{@link HedgePolicy#minDeadline}, the attempt timeout].
 *
 * <p>Why a window and not one running average: the tail is what matters (a hedge sent at the mean
 * would double a busy tree's traffic), and a ring of recent answers forgets an old burst of load
 * as soon as {@code window} newer answers replace it, which is the decay. Late answers of reads
 * already given up on are recorded too: a parent that got slow raises its own deadline instead of
 * being hedged around forever. A parent that answers nothing adds nothing, so a silent parent keeps
 * the deadline it had when it was healthy. Thread-safe; no clock of its own.
 */
public final class HedgeDeadline {
    private final HedgePolicy policy;
    private final long maxNanos;
    private final long[] answers;
    private int next;
    private int count;

    /** @param maxNanos the attempt timeout: no deadline is longer */
    public HedgeDeadline(final HedgePolicy policy, final long maxNanos) {
        this.policy = policy;
        this.maxNanos = maxNanos;
        this.answers = new long[policy.window()];
    }

    /** Records one answer that took {@code nanos}. */
    public synchronized void record(final long nanos) {
        answers[next] = Math.max(0, nanos);
        next = (next + 1) % answers.length;
        count = Math.min(count + 1, answers.length);
    }

    /** How long to wait for this parent before hedging, in nanoseconds. */
    public long nanos() {
        long estimate;
        synchronized (this) {
            if (count < answers.length / 4) {
                return Math.min(policy.initialDeadline().toNanos(), maxNanos);
            }
            long[] sorted = Arrays.copyOf(answers, count);
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(policy.percentile() * count) - 1;
            estimate = sorted[Math.max(0, Math.min(count - 1, rank))];
        }
        long deadline = (long) (estimate * policy.multiplier());
        return Math.min(maxNanos, Math.max(policy.minDeadline().toNanos(), deadline));
    }

    /** How long this parent may answer nothing before it counts as silent, in nanoseconds. */
    public long silentNanos() {
        return Math.max(policy.silentAfter().toNanos(), (long) (nanos() * policy.silentMultiplier()));
    }

    /**
     * As {@link #silentNanos()} for a parent that can be pinged: the ping, sent at the first missed
     * deadline, tells busy from silent, so the silence need not also outlast several deadlines.
     */
    public long pingedSilentNanos() {
        return Math.max(policy.silentAfter().toNanos(), nanos());
    }
}
