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

    /** Chosen by the model in docs/manager.md for 100 hosts on 1 GbE. */
    public static final int DEFAULT_FAN_OUT = 3;
    /** Enough for 3 * (1 + 3 + ... + 3^6) = 3279 hosts at fan-out 3. */
    public static final int DEFAULT_MAX_DEPTH = 8;
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
