package dev.virtman.block.cache;

/**
 * Hears every chunk a demand read touches, in order, for boot-profile recording (the agent
 * turns the first accesses of a boot into a prefetch list for the next one). Called on the
 * reading thread, once per chunk per read: implementations must be cheap and thread-safe.
 */
@FunctionalInterface
public interface ChunkAccessListener {
    ChunkAccessListener NONE = (chunkIndex, nanoTime) -> { };

    /**
     * @param chunkIndex the chunk read
     * @param nanoTime   {@link System#nanoTime()} at the read, for relative timing only
     */
    void onAccess(int chunkIndex, long nanoTime);
}
