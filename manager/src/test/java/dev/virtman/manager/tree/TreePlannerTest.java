package dev.virtman.manager.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TreePlannerTest {

    private static final String S = DistributionTree.SOURCE;

    private static List<TreeMember> hosts(final String... ids) {
        List<TreeMember> out = new ArrayList<>();
        for (String id : ids) {
            out.add(TreeMember.of(id, "", ""));
        }
        return out;
    }

    @Test
    void fillsBreadthFirstWithinFanOut() {
        TreePlanner planner = new TreePlanner(new TreeLimits(2, 2, 8), Locality.UNKNOWN);
        PlanResult r = planner.plan(DistributionTree.empty(), hosts("a", "b", "c", "d", "e", "f", "g"));
        DistributionTree t = r.tree();
        assertThat(t.childrenOf(S)).containsExactly("a", "b");
        assertThat(t.childrenOf("a")).containsExactly("c", "e");
        assertThat(t.childrenOf("b")).containsExactly("d", "f");
        assertThat(t.parentOf("g")).isEqualTo("c");
        assertThat(t.depth()).isEqualTo(3);
        assertThat(r.unplaced()).isEmpty();
        assertThat(r.changes()).allMatch(c -> c.kind() == TreeChange.Kind.JOINED).hasSize(7);
    }

    @Test
    void parentListRunsUpToTheSource() {
        TreePlanner planner = new TreePlanner(new TreeLimits(1, 1, 8), Locality.UNKNOWN);
        DistributionTree t = planner.plan(DistributionTree.empty(), hosts("a", "b", "c")).tree();
        assertThat(t.ancestorsOf("c")).containsExactly("b", "a", S);
        assertThat(t.ancestorsOf("a")).containsExactly(S);
    }

    @Test
    void prefersAParentInTheSameRackThenZone() {
        TreePlanner planner = new TreePlanner(new TreeLimits(2, 3, 8), new Locality("r0", "z0"));
        List<TreeMember> live = List.of(
                TreeMember.of("r1a", "r1", "z1"), TreeMember.of("r2a", "r2", "z2"), TreeMember.of("r3a", "r3", "z1"),
                TreeMember.of("r2b", "r2", "z2"), TreeMember.of("r3b", "r3", "z1"), TreeMember.of("r1b", "r1", "z1"),
                TreeMember.of("r4a", "r4", "z2"));
        DistributionTree t = planner.plan(DistributionTree.empty(), live).tree();
        assertThat(t.parentOf("r2b")).isEqualTo("r2a");
        assertThat(t.parentOf("r3b")).isEqualTo("r3a");
        assertThat(t.parentOf("r1b")).isEqualTo("r1a");
        // No rack-mate with a free slot: same zone wins over the less loaded other-zone parent.
        assertThat(t.parentOf("r4a")).isEqualTo("r2a");
    }

    @Test
    void rackNamesOnlyMatchWithinAZone() {
        assertThat(new Locality("r1", "z1").distanceTo(new Locality("r1", "z2"))).isEqualTo(2);
        assertThat(new Locality("r1", "z1").distanceTo(new Locality("r1", ""))).isZero();
        assertThat(Locality.UNKNOWN.distanceTo(Locality.UNKNOWN)).isEqualTo(2);
    }

    @Test
    void failurePromotesAChildIntoTheSlotAndKeepsItsSubtree() {
        TreePlanner planner = new TreePlanner(new TreeLimits(2, 1, 8), Locality.UNKNOWN);
        List<TreeMember> all = hosts("a", "b", "c", "d", "e", "f", "g");
        DistributionTree t = planner.plan(DistributionTree.empty(), all).tree();
        // a -> {b, c}; b -> {d, f}; c -> {e, g}
        assertThat(t.childrenOf("a")).containsExactly("b", "c");
        List<TreeMember> live = new ArrayList<>(all);
        live.removeIf(m -> m.hostId().equals("b"));
        PlanResult r = planner.plan(t, live);
        DistributionTree after = r.tree();
        assertThat(after.parentOf("d")).isEqualTo("a");
        assertThat(after.childrenOf("a")).contains("c", "d");
        assertThat(after.parentOf("f")).isIn("d", "c", "e", "g");
        assertThat(after.parentOf("e")).isEqualTo("c");
        assertThat(after.parentOf("g")).isEqualTo("c");
        assertThat(r.changes()).extracting(TreeChange::hostId).containsExactly("b", "d", "f");
        assertThat(r.moves()).isEqualTo(2);
    }

    @Test
    void promotionPrefersTheBestStockedChild() {
        TreePlanner planner = new TreePlanner(new TreeLimits(2, 1, 8), Locality.UNKNOWN);
        List<TreeMember> all = hosts("a", "b", "c");
        DistributionTree t = planner.plan(DistributionTree.empty(), all).tree();
        List<TreeMember> live = List.of(new TreeMember("b", Locality.UNKNOWN, 5), new TreeMember("c", Locality.UNKNOWN, 9));
        DistributionTree after = planner.plan(t, live).tree();
        assertThat(after.childrenOf(S)).containsExactly("c");
        assertThat(after.parentOf("b")).isEqualTo("c");
    }

    @Test
    void reportsHostsThatDoNotFitInsteadOfBreakingBounds() {
        TreePlanner planner = new TreePlanner(new TreeLimits(2, 1, 2), Locality.UNKNOWN);
        PlanResult r = planner.plan(DistributionTree.empty(), hosts("a", "b", "c", "d"));
        assertThat(r.tree().size()).isEqualTo(3);
        assertThat(r.unplaced()).containsExactly("d");
        assertThat(new TreeLimits(2, 1, 2).capacity()).isEqualTo(3);
        // A slot frees up: the waiting host gets it.
        PlanResult next = planner.plan(r.tree(), hosts("a", "c", "d"));
        assertThat(next.unplaced()).isEmpty();
        assertThat(next.tree().hosts()).containsExactlyInAnyOrder("a", "c", "d");
    }

    @Test
    void deepSubtreeIsSplitWhenItNoLongerFitsWhole() {
        // Chain s -> a -> b -> c -> d with fan-out 2, depth 4. Fail a: b is promoted; nothing else moves.
        TreePlanner chain = new TreePlanner(new TreeLimits(1, 1, 4), Locality.UNKNOWN);
        DistributionTree t = chain.plan(DistributionTree.empty(), hosts("a", "b", "c", "d")).tree();
        PlanResult r = new TreePlanner(new TreeLimits(2, 1, 4), Locality.UNKNOWN).plan(t, hosts("b", "c", "d"));
        assertThat(r.tree().ancestorsOf("d")).containsExactly("c", "b", S);
        assertThat(r.moves()).isEqualTo(1);
    }

    @Test
    void isDeterministic() {
        TreePlanner planner = new TreePlanner(new TreeLimits(3, 2, 5), new Locality("r1", "z1"));
        List<TreeMember> live = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            live.add(TreeMember.of("h" + i, "r" + (i % 4), "z" + (i % 2)));
        }
        DistributionTree first = planner.plan(DistributionTree.empty(), live).tree();
        assertThat(planner.plan(DistributionTree.empty(), live).tree()).isEqualTo(first);
        assertThat(DistributionTree.fromEdges(first.edges())).isEqualTo(first);
    }

    @Test
    void rejectsMalformedInput() {
        assertThatThrownBy(() -> new TreeLimits(0, 1, 1)).hasMessageContaining("fan-out");
        assertThatThrownBy(() -> DistributionTree.fromEdges(List.of(
                new DistributionTree.Edge("a", "b"), new DistributionTree.Edge("b", "a"))))
                .hasMessageContaining("cycle");
        assertThatThrownBy(() -> DistributionTree.fromEdges(List.of(new DistributionTree.Edge("a", "zz"))))
                .hasMessageContaining("unknown parent");
        TreePlanner planner = new TreePlanner(TreeLimits.DEFAULT, Locality.UNKNOWN);
        assertThatThrownBy(() -> planner.plan(DistributionTree.empty(), hosts("a", "a")))
                .hasMessageContaining("duplicate");
    }
}
