package dev.virtman.block.cache;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HedgeBudgetTest {
    @Test
    void hedgesAreAtMostTheRatioOfRequestsPlusTheBurst() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        HedgeBudget b = new HedgeBudget(HedgePolicy.DEFAULT.withBudget(0.05, 2), registry);
        int granted = 0;
        for (int i = 0; i < 1000; i++) {
            b.onRequest();
            if (b.tryHedge()) {
                granted++;
            }
        }
        // 2 from the full bucket, then one per 20 requests.
        assertThat(granted).isBetween(50, 52);
        assertThat(b.sent()).isEqualTo(granted);
        assertThat(b.refused()).isEqualTo(1000 - granted);
        assertThat(registry.get("virtman.fetch.hedges").tag("outcome", "refused").counter().count())
                .isEqualTo(1000 - granted);
    }

    @Test
    void theBucketNeverHoldsMoreThanTheBurst() {
        HedgeBudget b = new HedgeBudget(HedgePolicy.DEFAULT.withBudget(0.5, 3), new SimpleMeterRegistry());
        for (int i = 0; i < 100; i++) {
            b.onRequest();
        }
        int granted = 0;
        while (b.tryHedge()) {
            granted++;
        }
        assertThat(granted).isEqualTo(3);
    }
}
