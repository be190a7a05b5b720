package dev.virtman.manager.tree;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The default limits place any number of hosts: their depth bound grows with the fleet
 * ({@link TreeLimits#growing}), while fan-out bounds still hold. Until it grew, 3,000 hosts under
 * the defaults (fan-out 2, depth 10) left 954 hosts "unplaced".
 */
class GrowingDepthTest {

    private static List<TreeMember> fleet(final int count, final int racks) {
        List<TreeMember> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(TreeMember.of(String.format("h%05d", i), racks == 0 ? "" : "r" + (i % racks), ""));
        }
        return out;
    }

    @Test
    void theDefaultsPlaceThreeThousandHosts() {
        PlanResult r = new TreePlanner(TreeLimits.DEFAULT, Locality.UNKNOWN).plan(DistributionTree.empty(), fleet(3000, 8));
        assertThat(r.unplaced()).isEmpty();
        assertThat(r.tree().size()).isEqualTo(3000);
        assertThat(r.tree().depth()).isEqualTo(11); // 2046 fit in 10 levels, 4094 in 11
        checkFanOut(r.tree(), TreeLimits.DEFAULT);
    }

    /** What docs/manager.md says a 10,000-host tree looks like. */
    @Test
    void theDefaultsPlaceTenThousandHostsThirteenLevelsDeep() {
        TreePlanner planner = new TreePlanner(TreeLimits.DEFAULT, Locality.UNKNOWN);
        List<TreeMember> live = fleet(10_000, 40);
        PlanResult r = planner.plan(DistributionTree.empty(), live);
        assertThat(r.unplaced()).isEmpty();
        assertThat(r.tree().size()).isEqualTo(10_000);
        assertThat(r.tree().depth()).isEqualTo(13);
        assertThat(r.tree().childrenOf(DistributionTree.SOURCE)).hasSize(2);
        assertThat(TreeLimits.DEFAULT.forHosts(10_000).maxDepth()).isEqualTo(13);
        checkFanOut(r.tree(), TreeLimits.DEFAULT);

        // 5% fail and 5% new hosts join: still everybody placed, within the grown bound.
        Random random = new Random(7);
        List<TreeMember> next = new ArrayList<>(live);
        next.removeIf(m -> random.nextInt(20) == 0);
        int failed = live.size() - next.size();
        for (int i = 0; i < failed; i++) {
            next.add(TreeMember.of("n" + i, "r" + (i % 40), ""));
        }
        PlanResult after = planner.plan(r.tree(), next);
        assertThat(after.unplaced()).isEmpty();
        assertThat(after.tree().size()).isEqualTo(10_000);
        assertThat(after.tree().depth()).isLessThanOrEqualTo(13);
        checkFanOut(after.tree(), TreeLimits.DEFAULT);
    }

    @Test
    void fleetsThatFitPlanExactlyAsWithFixedLimits() {
        List<TreeMember> live = fleet(2046, 3);
        TreeLimits fixed = new TreeLimits(2, 2, TreeLimits.DEFAULT_MAX_DEPTH);
        assertThat(TreeLimits.DEFAULT.forHosts(2046)).isEqualTo(fixed);
        assertThat(new TreePlanner(TreeLimits.DEFAULT, Locality.UNKNOWN).plan(DistributionTree.empty(), live))
                .isEqualTo(new TreePlanner(fixed, Locality.UNKNOWN).plan(DistributionTree.empty(), live));
    }

    @Test
    void anExplicitDepthIsStillABound() {
        TreeLimits fixed = new TreeLimits(2, 2, 10);
        assertThat(fixed.forHosts(100_000)).isSameAs(fixed);
        PlanResult r = new TreePlanner(fixed, Locality.UNKNOWN).plan(DistributionTree.empty(), fleet(2050, 0));
        assertThat(r.unplaced()).hasSize(4);
    }

    record Scenario(int fanOut, int sourceFanOut, int hosts, long seed) { }

    @Provide
    Arbitrary<Scenario> scenarios() {
        return Combinators.combine(Arbitraries.integers().between(2, 4), Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(1, 5000), Arbitraries.longs()).as(Scenario::new);
    }

    /** Joins, failures and returns in any order: every live host is placed, fan-outs hold. */
    @Property(tries = 40)
    void growingLimitsLeaveNobodyUnplaced(@ForAll("scenarios") final Scenario s) {
        TreeLimits limits = TreeLimits.growing(s.fanOut(), s.sourceFanOut());
        TreePlanner planner = new TreePlanner(limits, Locality.UNKNOWN);
        Random random = new Random(s.seed());
        List<TreeMember> pool = fleet(s.hosts(), random.nextInt(5));
        DistributionTree tree = DistributionTree.empty();
        for (int step = 0; step < 4; step++) {
            List<TreeMember> live = new ArrayList<>();
            int keep = 1 + random.nextInt(10);
            for (TreeMember m : pool) {
                if (random.nextInt(10) < keep) {
                    live.add(m);
                }
            }
            PlanResult r = planner.plan(tree, live);
            assertThat(r.unplaced()).isEmpty();
            assertThat(r.tree().size()).isEqualTo(live.size());
            checkFanOut(r.tree(), limits);
            tree = r.tree();
        }
    }

    private static void checkFanOut(final DistributionTree t, final TreeLimits limits) {
        assertThat(t.childrenOf(DistributionTree.SOURCE).size()).isLessThanOrEqualTo(limits.sourceFanOut());
        for (String host : t.hosts()) {
            assertThat(t.childrenOf(host).size()).isLessThanOrEqualTo(limits.fanOut());
        }
    }
}
