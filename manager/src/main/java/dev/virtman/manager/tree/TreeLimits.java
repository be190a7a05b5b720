package dev.virtman.manager.tree;

/**
 * Shape bounds of a distribution tree.
 *
 * @param fanOut       children per agent: a parent's uplink is shared by its children, so this
 *                     trades per-child bandwidth against depth (docs/manager.md, "Fan-out")
 * @param sourceFanOut children of the source target, which may sit on a faster link than agents
 * @param maxDepth     deepest allowed level (source = 0); every level adds one hop of latency to
 *                     a cold read, so it is bounded. When {@code depthGrows}, this is only the
 *                     bound for fleets that fit in it (see {@link #forHosts})
 * @param depthGrows   whether the depth bound grows with the number of hosts, so that the
 *                     defaults place any number of hosts; an operator's explicit
 *                     {@code --max-depth} is fixed and reports the hosts that do not fit
 */
public record TreeLimits(int fanOut, int sourceFanOut, int maxDepth, boolean depthGrows) {

    /**
     * Chosen with {@code bench/fanout-model} (docs/manager.md): for 100 hosts on 1 GbE, fan-out 2
     * boots fastest for working sets of 40-323 MiB, both latency-bound and bandwidth-bound, since
     * a parent's uplink is split between its children while depth costs only pipelined hops.
     */
    public static final int DEFAULT_FAN_OUT = 2;
    /**
     * 2 + 4 + ... + 2^10 = 2046 hosts at fan-out 2; ten hops cost ~10 ms on a cold read. With the
     * default limits a larger fleet gets one more level per doubling (13 for 10,000 hosts).
     */
    public static final int DEFAULT_MAX_DEPTH = 10;
    public static final TreeLimits DEFAULT = growing(DEFAULT_FAN_OUT, DEFAULT_FAN_OUT);

    /** Bounds validated here so a bad flag fails at start-up, not during a boot storm. */
    public static final int MAX_FAN_OUT = 1024;
    public static final int MAX_DEPTH_LIMIT = 64;

    public TreeLimits {
        check("fan-out", fanOut, MAX_FAN_OUT);
        check("source fan-out", sourceFanOut, MAX_FAN_OUT);
        check("max depth", maxDepth, MAX_DEPTH_LIMIT);
    }

    /** Fixed bounds: a host that does not fit within {@code maxDepth} is reported unplaced. */
    public TreeLimits(final int fanOut, final int sourceFanOut, final int maxDepth) {
        this(fanOut, sourceFanOut, maxDepth, false);
    }

    /**
     * Bounds whose depth is {@link #DEFAULT_MAX_DEPTH} while the hosts fit and grows by the
     * levels a larger fleet needs: nobody is left unplaced by a default (fan-out 1, a chain,
     * still stops at {@link #MAX_DEPTH_LIMIT}).
     */
    public static TreeLimits growing(final int fanOut, final int sourceFanOut) {
        return new TreeLimits(fanOut, sourceFanOut, DEFAULT_MAX_DEPTH, true);
    }

    private static void check(final String what, final int value, final int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException(what + " must be in 1.." + max + ", got " + value);
        }
    }

    int slotsOf(final String nodeId) {
        return DistributionTree.SOURCE.equals(nodeId) ? sourceFanOut : fanOut;
    }

    /**
     * The fixed bounds one plan of {@code hosts} live hosts uses: these limits if fixed, else the
     * depth raised to the shallowest one whose full tree holds them all. Never lower than
     * {@link #maxDepth}, so fleets that fit plan exactly as with fixed limits. A shrinking fleet
     * lowers the bound again, which moves nobody (a join never moves a host; hosts left deeper
     * than the bound only leave it when their subtree is re-placed after a failure).
     */
    public TreeLimits forHosts(final int hosts) {
        if (!depthGrows) {
            return this;
        }
        int depth = maxDepth;
        while (depth < MAX_DEPTH_LIMIT && capacityAt(depth) < hosts) {
            depth++;
        }
        return new TreeLimits(fanOut, sourceFanOut, depth, false);
    }

    /** Number of hosts a full tree with these limits can hold (at the configured depth). */
    public long capacity() {
        return capacityAt(maxDepth);
    }

    private long capacityAt(final int depthBound) {
        long total = 0;
        long level = sourceFanOut;
        for (int depth = 1; depth <= depthBound && total < Long.MAX_VALUE / 2; depth++) {
            total += level;
            level = Math.min(Long.MAX_VALUE / 4, level * fanOut);
        }
        return total;
    }
}
