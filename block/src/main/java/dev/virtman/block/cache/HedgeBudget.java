package dev.virtman.block.cache;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * How many hedged requests an agent may send: a token bucket filled by requests, not by time.
 * Every request adds {@link HedgePolicy#budgetRatio} of a token (up to {@link HedgePolicy#budgetBurst});
 * a hedge takes a whole one. So over any long stretch hedges are at most that fraction of requests
 * plus the burst, whatever the tree's latency does: a slow tree cannot double its parents' or the
 * source's load by hedging ("The Tail at Scale", Dean and Barroso, CACM 2013, bounds hedges the
 * same way). One budget per image export, kept across parent changes.
 *
 * <p>Meters: {@code virtman.fetch.hedges} with {@code outcome} = {@code sent}, {@code won} (the
 * hedge answered first, verified) and {@code refused} (a deadline passed with no token left).
 */
public final class HedgeBudget {
    private final HedgePolicy policy;
    private double tokens;
    private final Counter sent;
    private final Counter won;
    private final Counter refused;

    public HedgeBudget(final HedgePolicy policy, final MeterRegistry registry) {
        this.policy = policy;
        this.tokens = policy.budgetBurst();
        this.sent = counter(registry, "sent", "hedged requests sent to a further parent");
        this.won = counter(registry, "won", "hedged requests that answered first with verified data");
        this.refused = counter(registry, "refused", "hedges not sent because the budget was spent");
    }

    private static Counter counter(final MeterRegistry registry, final String outcome, final String description) {
        return Counter.builder("virtman.fetch.hedges").description(description).tag("outcome", outcome)
                .register(registry);
    }

    public HedgePolicy policy() {
        return policy;
    }

    /** One request starts: earns its fraction of a hedge. */
    public synchronized void onRequest() {
        tokens = Math.min(policy.budgetBurst(), tokens + policy.budgetRatio());
    }

    /** Takes a token for one hedge; false (and counted as refused) when none is left. */
    public boolean tryHedge() {
        synchronized (this) {
            if (tokens >= 1) {
                tokens -= 1;
                sent.increment();
                return true;
            }
        }
        refused.increment();
        return false;
    }

    void onHedgeWon() {
        won.increment();
    }

    public double sent() {
        return sent.count();
    }

    public double won() {
        return won.count();
    }

    public double refused() {
        return refused.count();
    }
}
