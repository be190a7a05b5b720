package dev.virtman.block.cache;

/**
 * What one {@link ChunkCache#prefetchInOrder} call did.
 *
 * @param requested chunks in the list
 * @param loaded    chunks the prefetch threads fetched (or verified, when present from an earlier run)
 * @param skipped   chunks already cached or in flight when their turn came
 * @param failed    chunks whose prefetch failed (a demand read fetches them later)
 */
public record PrefetchReport(int requested, int loaded, int skipped, int failed) {
    /** Chunks not dealt with because the cache closed first. */
    public int abandoned() {
        return requested - loaded - skipped - failed;
    }

    /** Whether every chunk of the list was loaded, skipped or failed (the cache did not close first). */
    public boolean finished() {
        return abandoned() == 0;
    }
}
