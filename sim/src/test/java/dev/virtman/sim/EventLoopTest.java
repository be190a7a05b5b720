package dev.virtman.sim;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventLoopTest {

    @Test
    void runsActionsInTimeOrderAndAdvancesTheClock() {
        EventLoop loop = new EventLoop();
        List<String> seen = new ArrayList<>();
        loop.at(3.0, () -> seen.add("c@" + loop.now()));
        loop.at(1.0, () -> seen.add("a@" + loop.now()));
        loop.at(2.0, () -> seen.add("b@" + loop.now()));
        double end = loop.run();
        assertThat(seen).containsExactly("a@1.0", "b@2.0", "c@3.0");
        assertThat(end).isEqualTo(3.0);
        assertThat(loop.fired()).isEqualTo(3);
    }

    @Test
    void actionsDueTogetherRunInTheOrderTheyWereScheduled() {
        EventLoop loop = new EventLoop();
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            int n = i;
            loop.at(5.0, () -> seen.add(n));
        }
        loop.run();
        assertThat(seen).hasSize(100).isSorted();
    }

    @Test
    void anActionCanScheduleMoreWorkRelativeToNow() {
        EventLoop loop = new EventLoop();
        List<Double> ticks = new ArrayList<>();
        loop.at(0.5, new EventLoop.Action() {
            @Override
            public void run() {
                ticks.add(loop.now());
                if (ticks.size() < 4) {
                    loop.after(0.25, this);
                }
            }
        });
        loop.run();
        assertThat(ticks).containsExactly(0.5, 0.75, 1.0, 1.25);
    }

    @Test
    void runUntilStopsAtTheLimitAndKeepsTheRest() {
        EventLoop loop = new EventLoop();
        List<Double> seen = new ArrayList<>();
        for (double t : new double[] {4, 1, 3, 2}) {
            loop.at(t, () -> seen.add(loop.now()));
        }
        loop.runUntil(2.5);
        assertThat(seen).containsExactly(1.0, 2.0);
        assertThat(loop.isEmpty()).isFalse();
        loop.run();
        assertThat(seen).containsExactly(1.0, 2.0, 3.0, 4.0);
    }

    @Test
    void heapStaysOrderedThroughGrowthAndInterleavedRemovals() {
        EventLoop loop = new EventLoop();
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        List<Double> seen = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            double t = random.nextDouble(100);
            loop.at(t, () -> {
                seen.add(loop.now());
                if (seen.size() % 3 == 0) {
                    double later = loop.now() + random.nextDouble(10);
                    loop.at(later, () -> seen.add(loop.now()));
                }
            });
        }
        loop.run();
        assertThat(seen).isSorted();
        assertThat(loop.peakQueued()).isGreaterThanOrEqualTo(5000);
    }

    @Test
    void refusesToScheduleInThePast() {
        EventLoop loop = new EventLoop();
        loop.at(2.0, () -> loop.at(1.0, () -> { }));
        assertThatThrownBy(loop::run).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("before now");
        assertThatThrownBy(() -> new EventLoop().at(Double.NaN, () -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}
