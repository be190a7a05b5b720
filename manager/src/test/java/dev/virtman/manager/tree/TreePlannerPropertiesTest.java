package dev.virtman.manager.tree;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Invariants of {@link TreePlanner} over random sequences of joins and failures: bounds hold,
 * every live host is placed or reported unplaced (only when the tree is truly full), joins never
 * move anyone, and failures only move hosts from the failed hosts' subtrees.
 */
class TreePlannerPropertiesTest {

    private static final int MAX_HOSTS = 60;

    /** One step: which of the hosts are live (bit i of the pool). */
    record Scenario(TreeLimits limits, List<TreeMember> pool, List<Set<Integer>> steps) { }

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<TreeLimits> limits = Combinators.combine(
                Arbitraries.integers().between(1, 5), Arbitraries.integers().between(1, 6),
                Arbitraries.integers().between(1, 7)).as(TreeLimits::new);
        Arbitrary<TreeMember> member = Combinators.combine(
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1),
                Arbitraries.longs().between(0, 100)).as((r, z, c) -> new TreeMember("?", new Locality("r" + r, "z" + z), c));
        Arbitrary<List<TreeMember>> pool = member.list().ofMinSize(1).ofMaxSize(MAX_HOSTS).map(list -> {
            List<TreeMember> named = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                named.add(new TreeMember("h" + i, list.get(i).locality(), list.get(i).chunksHeld()));
            }
            return named;
        });
        Arbitrary<List<Set<Integer>>> steps = Arbitraries.integers().between(0, MAX_HOSTS - 1)
                .set().ofMaxSize(MAX_HOSTS).list().ofMinSize(1).ofMaxSize(8);
        return Combinators.combine(limits, pool, steps).as(Scenario::new);
    }

    @Property(tries = 300)
    void invariantsHoldAcrossJoinsAndFailures(@ForAll("scenarios") final Scenario s) {
        TreePlanner planner = new TreePlanner(s.limits(), new Locality("r0", "z0"));
        DistributionTree tree = DistributionTree.empty();
        for (Set<Integer> step : s.steps()) {
            List<TreeMember> live = new ArrayList<>();
            for (TreeMember m : s.pool()) {
                if (step.contains(Integer.parseInt(m.hostId().substring(1)))) {
                    live.add(m);
                }
            }
            PlanResult r = planner.plan(tree, live);
            checkBounds(s.limits(), r.tree());
            checkMembership(s.limits(), live, r);
            checkOnlyFailedSubtreesMove(tree, live, r);
            tree = r.tree();
        }
    }

    @Property(tries = 200)
    void joinsNeverMoveExistingHosts(@ForAll("scenarios") final Scenario s) {
        TreePlanner planner = new TreePlanner(s.limits(), Locality.UNKNOWN);
        DistributionTree tree = DistributionTree.empty();
        List<TreeMember> live = new ArrayList<>();
        for (TreeMember m : s.pool()) {
            live.add(m);
            PlanResult r = planner.plan(tree, live);
            for (String host : tree.hosts()) {
                assertThat(r.tree().parentOf(host)).isEqualTo(tree.parentOf(host));
            }
            assertThat(r.moves()).isZero();
            tree = r.tree();
        }
    }

    private static void checkBounds(final TreeLimits limits, final DistributionTree t) {
        assertThat(t.childrenOf(DistributionTree.SOURCE).size()).isLessThanOrEqualTo(limits.sourceFanOut());
        for (String host : t.hosts()) {
            assertThat(t.childrenOf(host).size()).isLessThanOrEqualTo(limits.fanOut());
            assertThat(t.depthOf(host)).isBetween(1, limits.maxDepth());
            // Reachable from the source without a cycle: the parent list ends at the source.
            List<String> ancestors = t.ancestorsOf(host);
            assertThat(ancestors.getLast()).isEqualTo(DistributionTree.SOURCE);
            assertThat(new HashSet<>(ancestors)).hasSize(ancestors.size()).doesNotContain(host);
        }
        assertThat(t.breadthFirst()).hasSize(t.size());
    }

    private static void checkMembership(final TreeLimits limits, final List<TreeMember> live, final PlanResult r) {
        Set<String> liveIds = new HashSet<>();
        live.forEach(m -> liveIds.add(m.hostId()));
        assertThat(liveIds).containsAll(r.tree().hosts());
        for (String id : liveIds) {
            assertThat(r.tree().contains(id) ^ r.unplaced().contains(id)).as(id).isTrue();
        }
        if (!r.unplaced().isEmpty()) {
            // Unplaced only when no node with depth headroom has a free slot.
            DistributionTree t = r.tree();
            assertThat(t.childrenOf(DistributionTree.SOURCE).size()).isEqualTo(limits.sourceFanOut());
            for (String host : t.hosts()) {
                if (t.depthOf(host) < limits.maxDepth()) {
                    assertThat(t.childrenOf(host).size()).isEqualTo(limits.fanOut());
                }
            }
        }
    }

    private static void checkOnlyFailedSubtreesMove(final DistributionTree before, final List<TreeMember> live,
                                                    final PlanResult r) {
        Set<String> liveIds = new HashSet<>();
        live.forEach(m -> liveIds.add(m.hostId()));
        Set<String> movable = new HashSet<>();
        for (String host : before.hosts()) {
            if (!liveIds.contains(host)) {
                movable.addAll(before.subtreeOf(host));
            }
        }
        Map<String, String> moved = new LinkedHashMap<>();
        for (TreeChange c : r.changes()) {
            if (c.kind() == TreeChange.Kind.MOVED) {
                moved.put(c.hostId(), c.newParent());
            } else if (c.kind() == TreeChange.Kind.REMOVED) {
                // A live host only leaves the tree if it was in a failed subtree that no longer fits.
                assertThat(!liveIds.contains(c.hostId()) || movable.contains(c.hostId())).as(c.toString()).isTrue();
            }
        }
        assertThat(movable).containsAll(moved.keySet());
    }
}
