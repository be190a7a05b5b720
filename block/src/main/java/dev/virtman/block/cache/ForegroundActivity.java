package dev.virtman.block.cache;

import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Tells the background scrub whether a cache is busy with foreground work: it served a read or
 * fetched a chunk within the last {@link #QUIET_NANOS}. While it is, the scrub slows to one chunk
 * per {@link #BUSY_PERIOD_NANOS} instead of its full rate.
 *
 * <p>Why: during a boot storm a cache fills with chunks that were verified (SHA-256) moments ago,
 * on their way in; re-hashing them at the full scrub rate paid for every chunk's hash twice or
 * more while the VMs waited for CPU (the storm profile of issue 16: the scrub was 6 % of all CPU
 * samples at 20 agents on one machine, fetch verification 1.3 %). Rot is still looked for while
 * busy, only slower, and at the full rate as soon as the host is quiet. Decisions depend only on
 * the counters and the time passed in, so tests drive it without sleeping.
 */
final class ForegroundActivity {
    /** A cache is busy if its counters moved within this long. */
    static final long QUIET_NANOS = 2_000_000_000L;
    /** While busy, at most one chunk is scrubbed per this long. */
    static final long BUSY_PERIOD_NANOS = 1_000_000_000L;

    private record Seen(long work, long changedNanos) {
    }

    private final Map<ChunkCache, Seen> seen = new IdentityHashMap<>();

    /**
     * Whether {@code cache} counts as busy at {@code nowNanos}, given {@code work}: a number that
     * grows with every foreground read or fetch (bytes served plus fetches).
     */
    boolean busy(final ChunkCache cache, final long work, final long nowNanos) {
        Seen s = seen.get(cache);
        if (s == null) {
            // First look: nothing to compare with yet; the next look tells.
            seen.put(cache, new Seen(work, nowNanos - QUIET_NANOS));
            return false;
        }
        if (work != s.work()) {
            seen.put(cache, new Seen(work, nowNanos));
            return true;
        }
        return nowNanos - s.changedNanos() < QUIET_NANOS;
    }

    /** The foreground work counter of {@code cache}: bytes it served plus chunks it fetched. */
    static long work(final ChunkCache cache) {
        CacheStats s = cache.stats();
        return s.bytesServed() + s.fetches();
    }

    /** Forgets caches no longer scrubbed. */
    void retain(final Collection<ChunkCache> caches) {
        Set<ChunkCache> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        keep.addAll(caches);
        seen.keySet().retainAll(keep);
    }
}
