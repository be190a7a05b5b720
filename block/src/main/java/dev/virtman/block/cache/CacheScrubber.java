package dev.virtman.block.cache;

import dev.virtman.block.TokenBucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-verifies cached chunks in the background, at a bounded rate, so rot that happens after a
 * chunk's first verified read (a bad sector, a stray write) is found and repaired from a parent
 * before a reader meets it, and before a child fetches it (a child verifies too, but a parent
 * that serves a bad chunk costs every child a retry).
 *
 * <p>One thread walks every cache's present chunks in order, pass after pass, taking
 * {@code chunkSize} tokens from its own {@link TokenBucket} before each chunk: the disk reads and
 * SHA-256 work stay under {@code bytesPerSecond} whatever the cache size. While a cache serves
 * reads or fetches chunks, the scrub of it slows to one chunk a second ({@link ForegroundActivity}):
 * the chunks a busy cache holds were mostly verified on their way in moments ago. A chunk that fails is
 * repaired through {@link ChunkCache#scrubChunk} (the same single flight as a read miss, so
 * readers are not blocked). Counted in {@code virtman_scrub_chunks_total} (chunks re-verified)
 * and {@code virtman_scrub_repaired_total} (repairs while scrubbing).
 */
public final class CacheScrubber implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheScrubber.class);
    /** Pause when no cache holds a chunk, instead of spinning. */
    private static final long IDLE_MILLIS = 1000;

    private final Supplier<List<ChunkCache>> caches;
    private final TokenBucket rate;
    private final Counter scrubbed;
    private final Counter repaired;
    private final Counter passes;
    private final Thread thread;
    private final ForegroundActivity activity = new ForegroundActivity();
    private volatile boolean closed;

    private CacheScrubber(final Supplier<List<ChunkCache>> caches, final long bytesPerSecond,
                          final MeterRegistry registry) {
        this.caches = caches;
        // A burst of one second's worth: a large chunk still passes, and no more than that runs ahead.
        this.rate = new TokenBucket(bytesPerSecond, bytesPerSecond);
        this.scrubbed = Counter.builder("virtman.scrub.chunks").description("cached chunks re-verified by the scrub")
                .register(registry);
        this.repaired = Counter.builder("virtman.scrub.repaired")
                .description("cached chunks that failed re-verification and were fetched again").register(registry);
        this.passes = Counter.builder("virtman.scrub.passes").description("completed passes over every cache")
                .register(registry);
        this.thread = Thread.ofPlatform().daemon().name("cache-scrub").unstarted(this::run);
    }

    /**
     * Starts scrubbing the caches {@code caches} lists (asked again at each pass) at
     * {@code bytesPerSecond}; 0 means no scrub (returns null).
     */
    public static CacheScrubber start(final Supplier<List<ChunkCache>> caches, final long bytesPerSecond,
                                      final MeterRegistry registry) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("the scrub rate must be >= 0");
        }
        if (bytesPerSecond == 0) {
            return null;
        }
        CacheScrubber scrubber = new CacheScrubber(caches, bytesPerSecond, registry);
        scrubber.thread.start();
        return scrubber;
    }

    private void run() {
        while (!closed) {
            long chunks = 0;
            List<ChunkCache> current = caches.get();
            activity.retain(current);
            for (ChunkCache cache : current) {
                try {
                    chunks += pass(cache);
                } catch (InterruptedIOException e) {
                    return;
                } catch (IOException e) {
                    // Closed under us (image evicted) or a parent unreachable for a repair: the
                    // next pass comes back to it.
                    LOG.debug("scrub of {} stopped: {}", cache, e.toString());
                }
                if (closed) {
                    return;
                }
            }
            passes.increment();
            if (chunks == 0) {
                try {
                    Thread.sleep(IDLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private long pass(final ChunkCache cache) throws IOException {
        long done = 0;
        int chunkSize = cache.manifest().chunkSize();
        for (int index = 0; index < cache.manifest().chunkCount() && !closed; index++) {
            if (!cache.isPresent(index)) {
                continue;
            }
            if (activity.busy(cache, ForegroundActivity.work(cache), System.nanoTime())) {
                try {
                    Thread.sleep(ForegroundActivity.BUSY_PERIOD_NANOS / 1_000_000);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException("scrub closed");
                }
            }
            rate.acquire(chunkSize);
            ChunkCache.Scrubbed result = cache.scrubChunk(index);
            if (result != ChunkCache.Scrubbed.ABSENT) {
                scrubbed.increment();
                done++;
            }
            if (result == ChunkCache.Scrubbed.REPAIRED) {
                repaired.increment();
                LOG.warn("scrub: chunk {} of cache {} failed verification and was fetched again", index, cache);
            }
        }
        return done;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
