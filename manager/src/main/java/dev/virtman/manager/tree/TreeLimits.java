package dev.virtman.manager.tree;

/**
 * Shape bounds of a distribution tree.
 *
 * @param fanOut       children per agent: a parent's uplink is shared by its children, so this
 *                     trades per-child bandwidth against depth (docs/manager.md, "Fan-out")
 * @param sourceFanOut children of the source target, which may sit on a faster link than agents
 * @param maxDepth     deepest allowed level (source = 0); every level adds one hop of latency to
 *                     a cold read, so it is bounded
 */
public record TreeLimits(int fanOut, int sourceFanOut, int maxDepth) {

    /**
     * Chosen with {@code bench/fanout-model} (docs/manager.md): for 100 hosts on 1 GbE, fan-out 2
     * boots fastest for working sets of 40-323 MiB, both latency-bound and bandwidth-bound, since
     * a parent's uplink is split between its children while depth costs only pipelined hops.
     */
    public static final int DEFAULT_FAN_OUT = 2;
    /** 2 + 4 + ... + 2^10 = 2046 hosts at fan-out 2; ten hops cost ~10 ms on a cold read. */
    public static final int DEFAULT_MAX_DEPTH = 10;
    public static final TreeLimits DEFAULT = new TreeLimits(DEFAULT_FAN_OUT, DEFAULT_FAN_OUT, DEFAULT_MAX_DEPTH);

    /** Bounds validated here so a bad flag fails at start-up, not during a boot storm. */
    public static final int MAX_FAN_OUT = 1024;
    public static final int MAX_DEPTH_LIMIT = 64;

    public TreeLimits {
        check("fan-out", fanOut, MAX_FAN_OUT);
        check("source fan-out", sourceFanOut, MAX_FAN_OUT);
        check("max depth", maxDepth, MAX_DEPTH_LIMIT);
    }

    private static void check(final String what, final int value, final int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException(what + " must be in 1.." + max + ", got " + value);
        }
    }

    int slotsOf(final String nodeId) {
        return DistributionTree.SOURCE.equals(nodeId) ? sourceFanOut : fanOut;
    }

    /** Number of hosts a full tree with these limits can hold. */
    public long capacity() {
        long total = 0;
        long level = sourceFanOut;
        for (int depth = 1; depth <= maxDepth && total < Long.MAX_VALUE / 2; depth++) {
            total += level;
            level = Math.min(Long.MAX_VALUE / 4, level * fanOut);
        }
        return total;
    }
}
