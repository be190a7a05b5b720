package dev.virtman.block.cache;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background loads for a {@link ChunkCache}: a small bounded executor of its own, so demand
 * reads never queue behind a prefetch; they at most join one already in flight (the loads go
 * through the same {@link ChunkLoader} single flight). {@link #prefetchInOrder} feeds a long list
 * (a boot profile) to the executor as its threads free up, so the whole list is fetched in
 * order while the queue holds only a few of its chunks and stays open to other requests. While
 * the cache is full, nothing is prefetched that would be fetched and thrown away.
 */
final class Prefetcher {

    private static final Logger LOG = LoggerFactory.getLogger(Prefetcher.class);
    /**
     * Chunks of an in-order prefetch queued or running per prefetch thread: one running and one
     * waiting, so a thread that finishes finds its next chunk queued without waiting for the feeder.
     */
    private static final int FEED_WINDOW_PER_THREAD = 2;
    /** Pause before an in-order prefetch offers a chunk again after other requests filled the queue. */
    private static final long QUEUE_FULL_PAUSE_MILLIS = 10;

    /** What one background prefetch of a chunk came to. */
    private enum Outcome { LOADED, SKIPPED, FAILED, ABANDONED }

    private final ChunkCache cache;
    private final ChunkLoader loader;
    private final CacheMeters meters;
    private final int threads;
    private final ThreadPoolExecutor executor;
    /** The slot semaphores of in-order prefetches running now; {@link #stop} wakes them. */
    private final Set<Semaphore> feeders = ConcurrentHashMap.newKeySet();

    Prefetcher(final ChunkCache cache, final ChunkLoader loader, final CacheMeters meters, final int threads,
               final int queueLength, final String threadNamePrefix) {
        this.cache = cache;
        this.loader = loader;
        this.meters = meters;
        this.threads = threads;
        this.executor = new ThreadPoolExecutor(threads, threads,
                0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(queueLength),
                Thread.ofPlatform().daemon().priority(Thread.MIN_PRIORITY).name(threadNamePrefix, 0).factory());
    }

    /**
     * Asks for chunk {@code index} to be fetched in the background. Returns false when it is
     * already cached or in flight, or when the prefetch queue is full (the request is dropped).
     */
    boolean prefetch(final int index) {
        if (cache.isClosed() || cache.isReady(index) || loader.inFlight(index)) {
            return false;
        }
        try {
            executor.execute(() -> prefetchNow(index));
            meters.prefetches.increment();
            return true;
        } catch (RejectedExecutionException e) {
            if (!cache.isClosed()) {
                meters.prefetchesDropped.increment();
            }
            return false;
        }
    }

    /**
     * Prefetches {@code chunks} in list order on the prefetch threads and returns once every one
     * of them has been loaded, skipped or failed, or the cache closed. Unlike {@link #prefetch},
     * nothing is dropped: the caller's thread waits while {@value #FEED_WINDOW_PER_THREAD} chunks
     * per prefetch thread are queued or running, and hands over the next one as a slot frees, so
     * a list longer than the queue costs no memory beyond the list itself. A chunk already cached
     * or in flight (a demand read got there first) when its turn comes is skipped; a failed one is
     * counted and not retried (a demand read for it fetches it). Demand reads run on their own
     * threads and never wait for this.
     *
     * @throws IndexOutOfBoundsException when a chunk is outside the image (before anything is queued)
     * @throws InterruptedException      when the calling thread is interrupted; chunks already
     *                                   handed over still complete
     */
    PrefetchReport prefetchInOrder(final List<Integer> chunks) throws InterruptedException {
        int window = feedWindow();
        Semaphore slots = new Semaphore(window);
        AtomicIntegerArray tally = new AtomicIntegerArray(Outcome.values().length);
        int skippedAtFeed = 0;
        int reached = 0;
        feeders.add(slots);
        meters.prefetchBacklog.addAndGet(chunks.size());
        try {
            for (int index : chunks) {
                if (cache.isClosed()) {
                    break;
                }
                reached++;
                meters.prefetchBacklog.decrementAndGet();
                if (cache.isReady(index) || loader.inFlight(index)) {
                    skippedAtFeed++;
                    continue;
                }
                slots.acquire();
                boolean queued = false;
                while (!cache.isClosed() && !(queued = handOver(index, slots, tally))) {
                    Thread.sleep(QUEUE_FULL_PAUSE_MILLIS);
                }
                if (!queued) {
                    slots.release(); // keeps "free slots + chunks out = window" for the wait below
                    break;
                }
            }
            // Wait for the last chunks handed over (close releases the slots it strands).
            slots.acquire(window);
        } finally {
            feeders.remove(slots);
            meters.prefetchBacklog.addAndGet(reached - chunks.size());
        }
        return new PrefetchReport(chunks.size(), tally.get(Outcome.LOADED.ordinal()),
                skippedAtFeed + tally.get(Outcome.SKIPPED.ordinal()), tally.get(Outcome.FAILED.ordinal()));
    }

    /** Queues chunk {@code index} for an in-order prefetch holding one of {@code slots}; false when the queue is full. */
    private boolean handOver(final int index, final Semaphore slots, final AtomicIntegerArray tally) {
        try {
            executor.execute(() -> {
                try {
                    tally.incrementAndGet(prefetchNow(index).ordinal());
                } finally {
                    slots.release();
                }
            });
            meters.prefetches.increment();
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** A prefetch thread's work on one chunk. */
    private Outcome prefetchNow(final int index) {
        if (cache.isClosed()) {
            return Outcome.ABANDONED;
        }
        if (cache.isReady(index)) {
            return Outcome.SKIPPED;
        }
        if (loader.isFull()) {
            return Outcome.SKIPPED; // it would be fetched and thrown away
        }
        try {
            loader.load(index);
            return Outcome.LOADED;
        } catch (IOException | RuntimeException e) {
            if (cache.isClosed()) {
                return Outcome.ABANDONED; // interrupted by close, not a fault of the chunk
            }
            LOG.debug("prefetch of chunk {} failed: {}", index, e.toString());
            return Outcome.FAILED;
        }
    }

    private int feedWindow() {
        return FEED_WINDOW_PER_THREAD * threads;
    }

    /** Drops queued prefetches, interrupts running ones and wakes in-order feeders (the cache is closing). */
    void stop() {
        executor.shutdownNow();
        // Wake in-order prefetches waiting for a slot; the chunks shutdownNow dropped never free theirs.
        int window = feedWindow();
        feeders.forEach(s -> s.release(window));
    }

    /** Waits up to {@code seconds} for the prefetch threads to end after {@link #stop}. */
    void awaitTermination(final long seconds) throws InterruptedException {
        executor.awaitTermination(seconds, TimeUnit.SECONDS);
    }
}
