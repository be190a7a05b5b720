package dev.virtman.manager;

import org.junit.jupiter.api.Test;

import static dev.virtman.manager.SuspicionTracker.Verdict.FAILED;
import static dev.virtman.manager.SuspicionTracker.Verdict.SUSPECT;
import static org.assertj.core.api.Assertions.assertThat;

class SuspicionTrackerTest {
    private static final long WINDOW = 10_000;
    private static final long STALE = 2_000;

    @Test
    void twoDistinctChildrenFailAHostThatStillHeartbeats() {
        SuspicionTracker t = new SuspicionTracker(WINDOW, STALE);
        assertThat(t.report("p", "c1", 1_000, 900)).isEqualTo(SUSPECT);
        assertThat(t.suspected("p", 1_000)).isTrue();
        assertThat(t.report("p", "c2", 1_300, 1_200)).isEqualTo(FAILED);
        assertThat(t.reporters("p", 1_300)).containsExactly("c1", "c2");
    }

    @Test
    void oneChildRepeatingItselfIsStillOneChild() {
        SuspicionTracker t = new SuspicionTracker(WINDOW, STALE);
        for (long now = 1_000; now < 9_000; now += 500) {
            assertThat(t.report("p", "liar", now, now - 100)).isEqualTo(SUSPECT);
        }
        assertThat(t.reporters("p", 9_000)).containsExactly("liar");
    }

    @Test
    void oneChildIsEnoughWhenTheHeartbeatsStoppedToo() {
        SuspicionTracker t = new SuspicionTracker(WINDOW, STALE);
        assertThat(t.report("p", "c1", 5_000, 5_000 - STALE)).as("exactly stale is not yet stale").isEqualTo(SUSPECT);
        assertThat(t.report("q", "c1", 5_000, 5_000 - STALE - 1)).isEqualTo(FAILED);
    }

    @Test
    void reportsFurtherApartThanTheWindowDoNotAgree() {
        SuspicionTracker t = new SuspicionTracker(WINDOW, STALE);
        assertThat(t.report("p", "c1", 1_000, 1_000)).isEqualTo(SUSPECT);
        assertThat(t.report("p", "c2", 1_000 + WINDOW + 1, 1_000 + WINDOW)).isEqualTo(SUSPECT);
        assertThat(t.reporters("p", 1_000 + WINDOW + 1)).containsExactly("c2");
        assertThat(t.suspected("p", 1_000 + 2 * WINDOW + 2)).isFalse();
    }

    @Test
    void clearedAfterTheHostFailed() {
        SuspicionTracker t = new SuspicionTracker(WINDOW, STALE);
        t.report("p", "c1", 1_000, 1_000);
        t.clear("p");
        assertThat(t.suspected("p", 1_000)).isFalse();
        assertThat(t.report("p", "c2", 1_100, 1_100)).as("a fresh start after failing").isEqualTo(SUSPECT);
    }
}
