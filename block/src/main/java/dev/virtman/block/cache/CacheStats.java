package dev.virtman.block.cache;

/**
 * A snapshot of one image cache's counters.
 *
 * @param chunkCount    chunks in the image
 * @param presentChunks chunks held in the cache file (bit set)
 * @param hits          chunk reads served from the cache file
 * @param misses        chunk reads that had to wait for a fetch, a first verification or a fill in flight
 * @param fetches       chunks fetched from upstream (demand and prefetch)
 * @param bytesServed   bytes returned to readers
 * @param repairs       cached chunks that failed verification and were fetched again
 * @param prefetches    prefetch requests accepted
 */
public record CacheStats(int chunkCount, int presentChunks, long hits, long misses, long fetches,
                         long bytesServed, long repairs, long prefetches) {
}
