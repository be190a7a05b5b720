package dev.virtman.block.cache;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which chunks were verified against the manifest in this process: in memory only, by design
 * (a chunk found in the cache file at open is hashed again on its first read). Lock-free, one
 * bit per chunk.
 */
final class VerifiedChunks {

    private final AtomicLongArray words;

    VerifiedChunks(final int chunkCount) {
        this.words = new AtomicLongArray((chunkCount + Long.SIZE - 1) / Long.SIZE);
    }

    boolean contains(final int index) {
        return (words.get(index >>> 6) & (1L << index)) != 0;
    }

    void add(final int index) {
        long mask = 1L << index;
        words.getAndUpdate(index >>> 6, w -> w | mask);
    }

    /** The chunk must be verified again before it is served (a scrub re-checks it). */
    void remove(final int index) {
        long mask = 1L << index;
        words.getAndUpdate(index >>> 6, w -> w & ~mask);
    }
}
