package dev.virtman.manager.tree;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link TreePlanner} (indexed free slots) returns exactly what {@link ReferenceTreePlanner}
 * (the breadth-first scan it replaced) returns: same tree with the same child order, same
 * changes, same unplaced hosts in the same order. Each scenario is a run of plans, each starting
 * from the tree the previous plan produced, with hosts failing (dropped from the live list) and
 * joining in random order, random racks and zones (some unknown), ties in chunks held, and now
 * and then limits other than the ones the current tree was built with (an operator changing
 * the fan-out), so trees deeper or wider than the limits get re-planned too.
 */
class TreePlannerEquivalenceTest {

    private static final int MAX_POOL = 90;
    private static final int MAX_STEPS = 8;

    /** The inputs of one run of plans; the steps are derived from {@code seed}. */
    record Scenario(TreeLimits limits, TreeLimits otherLimits, Locality source, int poolSize, int racks, int zones,
                    long seed) { }

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<TreeLimits> limits = Combinators.combine(
                Arbitraries.integers().between(1, 8), Arbitraries.integers().between(1, 8),
                Arbitraries.integers().between(1, 10)).as(TreeLimits::new);
        Arbitrary<Locality> source = Combinators.combine(label("r", 3), label("z", 2)).as(Locality::new);
        return Combinators.combine(limits, limits, source, Arbitraries.integers().between(1, MAX_POOL),
                Arbitraries.integers().between(0, 6), Arbitraries.integers().between(0, 3),
                Arbitraries.longs()).as(Scenario::new);
    }

    /** "" (unknown) or prefix + 0..count-1. */
    private static Arbitrary<String> label(final String prefix, final int count) {
        return Arbitraries.integers().between(-1, count - 1).map(i -> i < 0 ? "" : prefix + i);
    }

    @Property(tries = 600)
    void indexedPlannerMatchesTheBreadthFirstScan(@ForAll("scenarios") final Scenario s) {
        Random random = new Random(s.seed());
        List<TreeMember> pool = pool(s.poolSize(), s.racks(), s.zones(), random);
        DistributionTree tree = DistributionTree.empty();
        List<TreeMember> live = new ArrayList<>();
        int steps = 1 + random.nextInt(MAX_STEPS);
        for (int step = 0; step < steps; step++) {
            live = nextLive(pool, live, random);
            TreeLimits limits = random.nextInt(4) == 0 ? s.otherLimits() : s.limits();
            PlanResult expected = new ReferenceTreePlanner(limits, s.source()).plan(tree, live);
            PlanResult actual = new TreePlanner(limits, s.source()).plan(tree, live);
            assertSame(actual, expected);
            tree = actual.tree();
        }
    }

    /** Bigger trees than the property reaches, with locality everywhere and 5% failures. */
    @Example
    void matchesOnAThousandHostStormAndItsFailures() {
        Random random = new Random(42);
        List<TreeMember> pool = pool(1000, 6, 3, random);
        for (TreeLimits limits : List.of(new TreeLimits(2, 2, 10), new TreeLimits(4, 3, 6), new TreeLimits(3, 8, 4))) {
            Locality source = new Locality("r1", "z0");
            List<TreeMember> live = new ArrayList<>(pool.subList(0, 900));
            PlanResult first = new TreePlanner(limits, source).plan(DistributionTree.empty(), live);
            assertSame(first, new ReferenceTreePlanner(limits, source).plan(DistributionTree.empty(), live));
            live.removeIf(m -> random.nextInt(20) == 0);
            live.addAll(pool.subList(900, 1000));
            Collections.shuffle(live, random);
            PlanResult second = new TreePlanner(limits, source).plan(first.tree(), live);
            assertSame(second, new ReferenceTreePlanner(limits, source).plan(first.tree(), live));
            assertThat(second.changes()).isNotEmpty();
        }
    }

    private static void assertSame(final PlanResult actual, final PlanResult expected) {
        assertThat(actual.tree().edges()).isEqualTo(expected.tree().edges());
        assertThat(actual.tree().breadthFirst()).isEqualTo(expected.tree().breadthFirst());
        assertThat(actual.changes()).isEqualTo(expected.changes());
        assertThat(actual.unplaced()).isEqualTo(expected.unplaced());
        assertThat(actual.moves()).isEqualTo(expected.moves());
    }

    private static List<TreeMember> pool(final int size, final int racks, final int zones, final Random random) {
        List<TreeMember> pool = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            String rack = racks == 0 || random.nextInt(8) == 0 ? "" : "r" + random.nextInt(racks);
            String zone = zones == 0 || random.nextInt(8) == 0 ? "" : "z" + random.nextInt(zones);
            // Few distinct chunk counts, so promotion ties on chunks held are common.
            pool.add(new TreeMember("h" + i, new Locality(rack, zone), random.nextInt(3)));
        }
        return pool;
    }

    /**
     * The next live list: some live hosts fail (none, a few, or most), some others join at random
     * positions, and now and then the whole order is shuffled (registration order is the join
     * priority, so order matters for who gets a slot).
     */
    private static List<TreeMember> nextLive(final List<TreeMember> pool, final List<TreeMember> live,
                                             final Random random) {
        int failPercent = switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> 5;
            case 2 -> 30;
            default -> 80;
        };
        List<TreeMember> next = new ArrayList<>();
        for (TreeMember m : live) {
            if (random.nextInt(100) >= failPercent) {
                next.add(m);
            }
        }
        int joinPercent = random.nextInt(101);
        for (TreeMember m : pool) {
            if (!live.contains(m) && random.nextInt(100) < joinPercent) {
                next.add(random.nextInt(next.size() + 1), m);
            }
        }
        if (random.nextInt(4) == 0) {
            Collections.shuffle(next, random);
        }
        return next;
    }
}
