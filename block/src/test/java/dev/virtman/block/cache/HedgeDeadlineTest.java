package dev.virtman.block.cache;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class HedgeDeadlineTest {
    private static final long MS = 1_000_000L;
    private static final HedgePolicy POLICY = HedgePolicy.DEFAULT;

    @Test
    void initialGuessUntilAQuarterWindowOfAnswers() {
        HedgeDeadline d = new HedgeDeadline(POLICY, Duration.ofSeconds(5).toNanos());
        for (int i = 0; i < POLICY.window() / 4 - 1; i++) {
            d.record(10 * MS);
        }
        assertThat(d.nanos()).isEqualTo(POLICY.initialDeadline().toNanos());
        d.record(10 * MS);
        assertThat(d.nanos()).isEqualTo(30 * MS); // 3 x p95 of 10 ms answers
    }

    @Test
    void theTailSetsTheDeadlineAndOldAnswersAgeOut() {
        HedgeDeadline d = new HedgeDeadline(POLICY, Duration.ofSeconds(5).toNanos());
        for (int i = 0; i < POLICY.window(); i++) {
            d.record(i < POLICY.window() / 10 ? 200 * MS : 10 * MS);
        }
        assertThat(d.nanos()).as("a tenth slow: p95 is slow").isEqualTo(600 * MS);
        for (int i = 0; i < POLICY.window(); i++) {
            d.record(10 * MS);
        }
        assertThat(d.nanos()).as("a window later the slow burst is forgotten").isEqualTo(30 * MS);
    }

    @Test
    void boundedBelowAndAbove() {
        HedgeDeadline fast = new HedgeDeadline(POLICY, Duration.ofSeconds(5).toNanos());
        HedgeDeadline slow = new HedgeDeadline(POLICY, Duration.ofSeconds(5).toNanos());
        for (int i = 0; i < POLICY.window(); i++) {
            fast.record(1_000);
            slow.record(4_000 * MS);
        }
        assertThat(fast.nanos()).isEqualTo(POLICY.minDeadline().toNanos());
        assertThat(slow.nanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
        assertThat(fast.silentNanos()).isEqualTo(POLICY.silentAfter().toNanos());
        assertThat(slow.silentNanos()).isEqualTo(Duration.ofSeconds(20).toNanos());
    }
}
