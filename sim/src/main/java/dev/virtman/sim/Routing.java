package dev.virtman.sim;

/**
 * How a host of a storm chooses whom to ask for a chunk: the manager's tree with fail-over
 * upwards ({@link TreeRouting}, also the flat storm) or any peer that has it
 * ({@link MultiParentRouting}). {@link ChunkTransfers} does the rest the same way for both.
 */
interface Routing {

    /** Sets up before the VMs start (plans the tree). */
    void start();

    /** Host {@code h} claimed these chunks: make the attempt and send its first try. */
    void startFetch(int h, int[] claimed);

    /** A run failed at its first parent: prepares one of its chunks to be fetched alone. */
    void prepareSingle(ChunkTransfers.Attempt single);

    /**
     * The parent or peer the attempt asks next ({@link StormModel#SOURCE} for the source), or
     * {@link StormModel#NO_PEER} when it asks nobody now (paused for the next round, or gave up).
     */
    int nextPeer(ChunkTransfers.Attempt a);

    /** Whether the attempt's parent health is still the host's (a re-plan gives fresh health). */
    boolean isCurrent(ChunkTransfers.Attempt a);

    /** The tree level whose bytes a fetch by {@code h} counts in. */
    int depthOf(int h);

    /** Hosts just failed. */
    void hostsFailed();

    /** The depth the result reports. */
    int treeDepth();
}
