package dev.virtman.bench.manager;

import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small analytic model to choose the default fan-out: how long a boot storm takes when H hosts
 * boot the same image at once through a tree built by the real {@link TreePlanner}.
 *
 * <p>Every host replays the same boot trace (time, offset, length): reads are synchronous, each
 * issued after the previous one completed plus the trace's think time divided by a speed-up
 * (the trace was recorded under TCG; KVM guests boot several times faster, so they demand data
 * faster). A read needs its chunks; a chunk not yet at the host is fetched from the parent,
 * which fetches it from its own parent if it does not have it yet (single flight), and so on up
 * to the source. One hop of one chunk costs a round trip, the transfer at the parent's uplink
 * rate divided by its number of children (in a storm all siblings want the same chunk at the
 * same moment, so they share the uplink), and the verification (SHA-256) of the chunk.
 *
 * <p>What it leaves out: queueing between different chunks on one link (it assumes a link is
 * busy with one chunk at a time per child), TCP dynamics, and hosts starting at different
 * moments. The boot-storm simulation issue replaces it with an event-driven simulation.
 *
 * <pre>
 *   java -cp target/virtman-bench.jar dev.virtman.bench.manager.FanOutModel TRACE.csv [HOSTS]
 * </pre>
 */
public final class FanOutModel {

    private static final int CHUNK = 64 << 10;
    private static final double LINK_BYTES_PER_SECOND = 117.5e6; // 1 GbE payload after Ethernet/IP/TCP/iSCSI headers
    private static final double RTT_SECONDS = 200e-6;
    private static final double HASH_BYTES_PER_SECOND = 300e6; // SHA-256 measured 190-410 MiB/s on this machine
    private static final double HASH_SECONDS = CHUNK / HASH_BYTES_PER_SECOND;
    private static final int MAX_FAN_OUT = 10;
    private static final int[] WORKING_SET_SCALES = {1, 3, 10};
    private static final double[] SPEEDUPS = {10, Double.POSITIVE_INFINITY};

    /** One trace read. */
    record Read(double time, long offset, int length) { }

    private final List<Read> trace;
    private final int hosts;

    FanOutModel(final List<Read> trace, final int hosts) {
        this.trace = trace;
        this.hosts = hosts;
    }

    static List<Read> load(final Path csv) throws IOException {
        List<Read> reads = new ArrayList<>();
        for (String line : Files.readAllLines(csv)) {
            if (line.isBlank() || line.startsWith("time")) {
                continue;
            }
            String[] f = line.split(",");
            reads.add(new Read(Double.parseDouble(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2])));
        }
        return reads;
    }

    /** Worst and mean boot time over the hosts, in seconds. */
    record Outcome(int depth, double worst, double mean, double workingSetMiB) { }

    Outcome run(final int fanOut, final int scale, final double speedup) {
        List<TreeMember> members = new ArrayList<>();
        for (int i = 0; i < hosts; i++) {
            members.add(TreeMember.of("h" + i, "", ""));
        }
        TreePlanner planner = new TreePlanner(new TreeLimits(fanOut, fanOut, TreeLimits.DEFAULT_MAX_DEPTH), Locality.UNKNOWN);
        PlanResult plan = planner.plan(DistributionTree.empty(), members);
        if (!plan.unplaced().isEmpty()) {
            return null; // does not fit within the default depth bound
        }
        DistributionTree tree = plan.tree();
        // Chunk -> time it is available, per host; parents are simulated before their children.
        Map<String, Map<Long, Double>> ready = new HashMap<>();
        double worst = 0;
        double sum = 0;
        long chunksTouched = 0;
        for (String host : tree.breadthFirst()) {
            Map<Long, Double> mine = new HashMap<>();
            ready.put(host, mine);
            double clock = 0;
            double linkFree = 0;
            double transfer = CHUNK * (double) tree.childrenOf(tree.parentOf(host)).size() / LINK_BYTES_PER_SECOND;
            double previousTraceTime = trace.getFirst().time();
            for (Read r : trace) {
                clock += (r.time() - previousTraceTime) / speedup;
                previousTraceTime = r.time();
                long first = r.offset() * scale / CHUNK;
                long last = (r.offset() * scale + (long) r.length() * scale - 1) / CHUNK;
                double done = clock;
                for (long c = first; c <= last; c++) {
                    Double have = mine.get(c);
                    if (have == null) {
                        // The chunks of one read share this host's slice of the parent's uplink.
                        double arrives = fetch(tree, ready, host, c, clock);
                        double start = Math.max(arrives - transfer - RTT_SECONDS / 2 - HASH_SECONDS, linkFree);
                        linkFree = start + transfer;
                        have = start + transfer + RTT_SECONDS / 2 + HASH_SECONDS;
                        mine.put(c, have);
                    }
                    done = Math.max(done, have);
                }
                clock = done;
            }
            worst = Math.max(worst, clock);
            sum += clock;
            chunksTouched = mine.size();
        }
        return new Outcome(tree.depth(), worst, sum / hosts, chunksTouched * (double) CHUNK / (1 << 20));
    }

    /** When {@code host} has chunk {@code c} if it asks its parent at {@code t}. */
    private double fetch(final DistributionTree tree, final Map<String, Map<Long, Double>> ready, final String host,
                         final long c, final double t) {
        String parent = tree.parentOf(host);
        int siblings = tree.childrenOf(parent).size();
        double atParent;
        if (DistributionTree.SOURCE.equals(parent)) {
            atParent = t + RTT_SECONDS / 2;
        } else {
            Double own = ready.get(parent).get(c);
            double asked = t + RTT_SECONDS / 2;
            if (own != null && own <= asked) {
                atParent = asked;
            } else {
                double onDemand = fetch(tree, ready, parent, c, asked);
                atParent = own == null ? onDemand : Math.min(own, onDemand);
            }
        }
        return atParent + CHUNK * (double) siblings / LINK_BYTES_PER_SECOND + RTT_SECONDS / 2 + HASH_SECONDS;
    }

    public static void main(final String[] args) throws IOException {
        Path csv = Path.of(args.length > 0 ? args[0] : "bench/traces/debian12-boot.csv");
        int hosts = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        FanOutModel model = new FanOutModel(load(csv), hosts);
        System.out.printf("fan-out model: %d hosts, trace %s (%d reads), %d KiB chunks, 1 GbE, RTT %.0f us%n",
                hosts, csv.getFileName(), model.trace.size(), CHUNK >> 10, RTT_SECONDS * 1e6);
        for (double speedup : SPEEDUPS) {
            String pace = Double.isInfinite(speedup) ? "back-to-back reads (prefetch/bandwidth-bound)"
                    : "trace think time / " + (int) speedup;
            for (int scale : WORKING_SET_SCALES) {
                Outcome[] outcomes = new Outcome[MAX_FAN_OUT + 1];
                int best = -1;
                for (int f = 1; f <= MAX_FAN_OUT; f++) {
                    outcomes[f] = model.run(f, scale, speedup);
                    if (outcomes[f] != null && (best < 0 || outcomes[f].worst() < outcomes[best].worst())) {
                        best = f;
                    }
                }
                System.out.printf("%n%s, working set %.0f MiB (trace lengths x%d)%n", pace, outcomes[best].workingSetMiB(),
                        scale);
                System.out.println("fan-out  depth  worst boot s  mean boot s  worst vs best");
                for (int f = 1; f <= MAX_FAN_OUT; f++) {
                    Outcome o = outcomes[f];
                    if (o == null) {
                        System.out.printf("%7d  %5s  (does not fit in max depth %d)%n", f, "-", TreeLimits.DEFAULT_MAX_DEPTH);
                        continue;
                    }
                    System.out.printf("%7d  %5d  %12.2f  %11.2f  %12.2fx%s%n", f, o.depth(), o.worst(), o.mean(),
                            o.worst() / outcomes[best].worst(), f == best ? "  <- best" : "");
                }
            }
        }
    }
}
