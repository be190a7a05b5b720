package dev.virtman.bench.manager;

import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times {@link TreePlanner#plan} the three ways VirtMan calls it: a whole storm's hosts planned
 * at once (the simulator, a manager restart), the same tree re-planned after 1% of its hosts
 * failed (the manager's failure detector), and one host joining a full tree (the manager's join
 * path, once per agent; median of {@value #JOIN_REPEATS} per round). Uses only the planner's
 * public API, so the same class times any version of the planner: compile it against the old
 * jar and put it first on the class path.
 *
 * <p>Hosts spread over {@value #ZONES} zones of {@value #RACKS_PER_ZONE} racks, so every
 * locality tie-break is exercised. The depth bound is the smallest that holds every host, as
 * the simulator picks it. Prints the median of the rounds and, as the same-run baseline, the
 * growth from the smallest to the largest size: about the size ratio for O(N log N), its
 * square for O(N²).
 *
 * <pre>
 *   java -cp target/virtman-bench.jar dev.virtman.bench.manager.TreePlannerBench [ROUNDS] [SIZES] [FAN-OUTS]
 *   e.g. ... TreePlannerBench 5 1000,10000 2,4
 * </pre>
 */
public final class TreePlannerBench {

    private static final int ZONES = 4;
    private static final int RACKS_PER_ZONE = 10;
    /** One host in a hundred fails in the re-plan case, as in the simulator's failure runs. */
    private static final int FAILURE_EVERY = 100;
    private static final double NANOS_PER_MILLI = 1e6;
    /** A join is cheap next to the whole plan: repeated within each round so the JIT warms up. */
    private static final int JOIN_REPEATS = 21;

    private TreePlannerBench() {
    }

    public static void main(final String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int[] sizes = args.length > 1 ? parseList(args[1]) : new int[] {1000, 10000};
        int[] fanOuts = args.length > 2 ? parseList(args[2]) : new int[] {2, 4};
        System.out.printf("rounds %d (median), %d zones x %d racks, java %s%n", rounds, ZONES, RACKS_PER_ZONE,
                Runtime.version());
        System.out.println("fan-out  hosts  depth  plan all ms  re-plan 1% failed ms  one join ms");
        for (int fanOut : fanOuts) {
            double[] first = null;
            double[] last = null;
            for (int size : sizes) {
                double[] times = measure(fanOut, size, rounds);
                if (first == null) {
                    first = times;
                }
                last = times;
            }
            if (sizes.length > 1) {
                double sizeRatio = (double) sizes[sizes.length - 1] / sizes[0];
                System.out.printf("fan-out %d: %dx the hosts took %.1fx / %.1fx / %.1fx the time%n",
                        fanOut, Math.round(sizeRatio), last[0] / first[0], last[1] / first[1], last[2] / first[2]);
            }
        }
    }

    /** Median milliseconds of: plan all, re-plan after failures, one join. */
    private static double[] measure(final int fanOut, final int size, final int rounds) {
        int maxDepth = 1;
        while (new TreeLimits(fanOut, fanOut, maxDepth).capacity() < size && maxDepth < TreeLimits.MAX_DEPTH_LIMIT) {
            maxDepth++;
        }
        TreePlanner planner = new TreePlanner(new TreeLimits(fanOut, fanOut, maxDepth), new Locality("r0", "z0"));
        List<TreeMember> all = members(size + 1);
        List<TreeMember> hosts = all.subList(0, size);
        List<TreeMember> survivors = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            if (i % FAILURE_EVERY != FAILURE_EVERY / 2) {
                survivors.add(hosts.get(i));
            }
        }
        long[] planAll = new long[rounds];
        long[] replan = new long[rounds];
        long[] join = new long[rounds];
        DistributionTree full = null;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            PlanResult plan = planner.plan(DistributionTree.empty(), hosts);
            long t1 = System.nanoTime();
            full = plan.tree();
            PlanResult afterFailures = planner.plan(full, survivors);
            long t2 = System.nanoTime();
            long[] joins = new long[JOIN_REPEATS];
            for (int j = 0; j < JOIN_REPEATS; j++) {
                long t3 = System.nanoTime();
                check(planner.plan(full, all), size + 1);
                joins[j] = System.nanoTime() - t3;
            }
            check(plan, size);
            check(afterFailures, survivors.size());
            planAll[r] = t1 - t0;
            replan[r] = t2 - t1;
            join[r] = (long) (median(joins) * NANOS_PER_MILLI);
        }
        double[] medians = {median(planAll), median(replan), median(join)};
        System.out.printf("%7d %6d %6d %12.1f %21.1f %12.2f%n", fanOut, size, full.depth(),
                medians[0], medians[1], medians[2]);
        // For bench/tree-planner to set against a baseline planner's run.
        System.err.printf("RESULT %d %d %.3f %.3f %.3f%n", fanOut, size, medians[0], medians[1], medians[2]);
        return medians;
    }

    /** A bench that silently plans nothing would time nothing. */
    private static void check(final PlanResult plan, final int expected) {
        if (plan.tree().size() + plan.unplaced().size() != expected) {
            throw new IllegalStateException("plan lost hosts: " + plan.tree().size() + " + " + plan.unplaced().size());
        }
    }

    private static List<TreeMember> members(final int count) {
        List<TreeMember> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int zone = i % ZONES;
            int rack = (i / ZONES) % RACKS_PER_ZONE;
            out.add(new TreeMember("h" + i, new Locality("r" + rack, "z" + zone), i % 7));
        }
        return out;
    }

    private static double median(final long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / NANOS_PER_MILLI;
    }

    private static int[] parseList(final String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
