package dev.virtman.block.cache;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ParentHealthTest {
    private static final long S = 1_000_000_000L;

    @Test
    void healthyParentsKeepTheManagersOrder() {
        ParentHealth h = new ParentHealth(3, S, 0);
        assertThat(h.attemptOrder(0)).containsExactly(0, 1, 2);
    }

    @Test
    void aFailedParentGoesLastForItsCooldownThenComesBack() {
        ParentHealth h = new ParentHealth(3, S, 0);
        h.recordFailure(0, 10 * S);
        assertThat(h.attemptOrder(10 * S)).containsExactly(1, 2, 0);
        assertThat(h.coolingDown(0, 10 * S + S - 1)).isTrue();
        assertThat(h.attemptOrder(11 * S)).containsExactly(0, 1, 2);
    }

    @Test
    void cooldownDoublesWithConsecutiveFailuresUpToTheCap() {
        ParentHealth h = new ParentHealth(2, S, 0);
        long now = 0;
        long[] expected = {1, 2, 4, 8, 16, 32, 64, 64, 64};
        for (long e : expected) {
            h.recordFailure(0, now);
            assertThat(h.coolingDown(0, now + e * S - 1)).as("cool-down %d s", e).isTrue();
            assertThat(h.coolingDown(0, now + e * S)).isFalse();
        }
        h.recordSuccess(0, now);
        assertThat(h.coolingDown(0, now)).isFalse();
        h.recordFailure(0, now);
        assertThat(h.coolingDown(0, now + S)).isFalse();
    }

    @Test
    void coolingParentsAreOrderedBySoonestRecovery() {
        ParentHealth h = new ParentHealth(3, S, 0);
        h.recordFailure(0, 0);
        h.recordFailure(0, 0); // 2 s
        h.recordFailure(1, 0); // 1 s
        assertThat(h.attemptOrder(0)).containsExactly(2, 1, 0);
    }

    @Test
    void aParentWhoseLastAttemptSucceededIsHealthyWhateverItsStamp() {
        ParentHealth h = new ParentHealth(2, S, 0);
        h.recordSuccess(0, 5 * S); // stamped "later" than the caller's now below
        assertThat(h.attemptOrder(4 * S)).containsExactly(0, 1);
    }
}
