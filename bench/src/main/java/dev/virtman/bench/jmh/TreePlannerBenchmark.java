package dev.virtman.bench.jmh;

import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link TreePlanner#plan} the three ways VirtMan calls it: a whole storm's hosts planned at once
 * ({@code planAll}: the simulator, a manager restart), the full tree re-planned after 1 % of its
 * hosts failed ({@code replanAfterFailures}: the failure detector's splice) and one host joining
 * the full tree ({@code oneJoin}: the manager's join path). Hosts spread over 4 zones of 10
 * racks so every locality tie-break runs; the depth bound is the smallest that holds them, as the
 * simulator picks it. Uses only the planner's public API, so {@code bench/tree-planner} can run
 * it against an older planner jar put first on the class path (JMH's forks inherit it). Was
 * {@code TreePlannerBench}'s hand-timed loop.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class TreePlannerBenchmark {
    private static final int ZONES = 4;
    private static final int RACKS_PER_ZONE = 10;
    /** One host in a hundred fails in the re-plan case, as in the simulator's failure runs. */
    private static final int FAILURE_EVERY = 100;

    @Param({"2", "4"})
    public int fanOut;

    @Param({"1000", "10000"})
    public int hosts;

    private TreePlanner planner;
    private List<TreeMember> members;
    private List<TreeMember> all;
    private List<TreeMember> survivors;
    private DistributionTree full;

    @Setup(Level.Trial)
    public void planFullTree() {
        int maxDepth = 1;
        while (new TreeLimits(fanOut, fanOut, maxDepth).capacity() < hosts && maxDepth < TreeLimits.MAX_DEPTH_LIMIT) {
            maxDepth++;
        }
        planner = new TreePlanner(new TreeLimits(fanOut, fanOut, maxDepth), new Locality("r0", "z0"));
        all = new ArrayList<>(hosts + 1);
        for (int i = 0; i <= hosts; i++) {
            all.add(new TreeMember("h" + i, new Locality("r" + (i / ZONES) % RACKS_PER_ZONE, "z" + i % ZONES), i % 7));
        }
        members = all.subList(0, hosts);
        survivors = new ArrayList<>();
        for (int i = 0; i < hosts; i++) {
            if (i % FAILURE_EVERY != FAILURE_EVERY / 2) {
                survivors.add(members.get(i));
            }
        }
        full = check(planner.plan(DistributionTree.empty(), members), hosts).tree();
        check(planner.plan(full, survivors), survivors.size());
        check(planner.plan(full, all), hosts + 1);
    }

    @Benchmark
    public PlanResult planAll() {
        return planner.plan(DistributionTree.empty(), members);
    }

    @Benchmark
    public PlanResult replanAfterFailures() {
        return planner.plan(full, survivors);
    }

    @Benchmark
    public PlanResult oneJoin() {
        return planner.plan(full, all);
    }

    /** A bench that silently plans nothing would time nothing. */
    private static PlanResult check(final PlanResult plan, final int expected) {
        if (plan.tree().size() + plan.unplaced().size() != expected) {
            throw new IllegalStateException("plan lost hosts: " + plan.tree().size() + " + " + plan.unplaced().size());
        }
        return plan;
    }
}
