package dev.virtman.block.cache;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.BlockDevice;
import dev.virtman.block.ReopeningFileChannel;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The chunk cache filter: a read-only {@link BlockDevice} that serves an image from a local
 * sparse file and fetches missing chunks from a {@link VerifiedChunkSource} (the parents).
 *
 * <p><b>What it stores.</b> A cache directory holds {@code manifest} (the image's
 * {@link ChunkManifest}), {@code data} (a sparse file as large as the image; chunk i at byte
 * i x chunk size) and {@code present} ({@link PresenceBitmap}: which chunks {@code data} holds).
 *
 * <p><b>What is durable when.</b> A fetched chunk is served to its readers at once, from memory;
 * a single committer thread then writes a batch of chunks to {@code data}, forces it
 * (fdatasync), and only then sets their bits and writes and forces {@code present}. A crash at any
 * point leaves every set bit pointing at durable data; a bit that did not make it costs one
 * refetch. While a chunk waits for its commit, readers get it from the in-flight buffer.
 *
 * <p><b>Why it can be trusted.</b> Cached data is never served unverified: a chunk found in the
 * cache at open is hashed against the manifest on its first read in this process (disks rot
 * and operators edit files even after fsync), and a mismatch clears its bit durably and fetches
 * it again. Chunks filled by this process were verified by the source and are trusted for the
 * life of the process, so warm reads are plain positional reads with no hashing and no lock.
 *
 * <p><b>Single flight.</b> Every chunk that is not ready (present and verified) is loaded
 * through one {@link CompletableFuture} per chunk in {@code inflight}: the first reader
 * produces it (verify-or-fetch) on its own thread, every concurrent reader waits on the same
 * future, so N readers of a missing chunk cause exactly one upstream fetch.
 *
 * <p><b>Prefetch.</b> {@link #prefetch(int)} queues a chunk on a small bounded executor of its
 * own; demand reads never queue behind it, they at most join a prefetch already in flight.
 * {@link #prefetchInOrder} feeds a long list (a boot profile) to the same executor as its
 * threads free up, so the whole list is fetched in order while the queue holds only a few of
 * its chunks and stays open to other requests.
 */
public final class ChunkCache implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkCache.class);
    public static final String MANIFEST_FILE = "manifest";
    static final String DATA_FILE = "data";
    static final String PRESENT_FILE = "present";
    /** Hex digits of the image id used in meter tags and thread names. */
    private static final int SHORT_ID_LENGTH = 16;
    private static final long CLOSE_WAIT_SECONDS = 30;
    /** Most bytes one miss fetches as a run (the upstream initiator splits it by the parent's limits). */
    public static final int MAX_RUN_BYTES = 1 << 20;
    /**
     * Chunks of an in-order prefetch queued or running per prefetch thread: one running and one
     * waiting, so a thread that finishes finds its next chunk queued without waiting for the feeder.
     */
    private static final int FEED_WINDOW_PER_THREAD = 2;
    /** Pause before an in-order prefetch offers a chunk again after other requests filled the queue. */
    private static final long QUEUE_FULL_PAUSE_MILLIS = 10;

    /**
     * Tunables and hooks.
     *
     * @param prefetchThreads     concurrent prefetch fetches (demand reads are not limited)
     * @param prefetchQueueLength prefetch requests held before new ones are dropped
     * @param maxCommitBatch      chunks forced together by one fdatasync
     * @param registry            where the cache's meters go
     * @param accessListener      hears every chunk a read touches
     * @param spaceBudget         host-wide space accounting; chunks that do not fit are served, not kept
     */
    public record Options(int prefetchThreads, int prefetchQueueLength, int maxCommitBatch,
                          MeterRegistry registry, ChunkAccessListener accessListener, SpaceBudget spaceBudget) {
        public Options {
            if (prefetchThreads < 1 || prefetchQueueLength < 1 || maxCommitBatch < 1) {
                throw new IllegalArgumentException("prefetch threads, queue length and commit batch must be positive");
            }
        }

        public static Options defaults(final MeterRegistry registry) {
            return new Options(2, 4096, 256, registry, ChunkAccessListener.NONE, SpaceBudget.UNLIMITED);
        }

        public Options withAccessListener(final ChunkAccessListener listener) {
            return new Options(prefetchThreads, prefetchQueueLength, maxCommitBatch, registry, listener, spaceBudget);
        }

        public Options withSpaceBudget(final SpaceBudget budget) {
            return new Options(prefetchThreads, prefetchQueueLength, maxCommitBatch, registry, accessListener, budget);
        }

        public Options withPrefetchThreads(final int threads) {
            return new Options(threads, prefetchQueueLength, maxCommitBatch, registry, accessListener, spaceBudget);
        }

        public Options withPrefetchQueueLength(final int length) {
            return new Options(prefetchThreads, length, maxCommitBatch, registry, accessListener, spaceBudget);
        }
    }

    /** A chunk waiting for the committer; a null {@code data} is a flush barrier, index -1 the stop signal. */
    private record Pending(int index, ByteBuffer data, CompletableFuture<ByteBuffer> future, boolean reserved) { }

    private static final Pending STOP = new Pending(-1, null, null, false);

    /** What one background prefetch of a chunk came to. */
    private enum Outcome { LOADED, SKIPPED, FAILED, ABANDONED }

    private final Path directory;
    private final ChunkManifest manifest;
    private final VerifiedChunkSource source;
    private final Options options;
    private final ReopeningFileChannel data;
    private final PresenceBitmap present;
    /** Chunks verified against the manifest in this process (in memory only, by design). */
    private final AtomicLongArray verified;
    private final ConcurrentHashMap<Integer, CompletableFuture<ByteBuffer>> inflight = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Pending> commitQueue = new LinkedBlockingQueue<>();
    private final Thread committer;
    private final ThreadPoolExecutor prefetcher;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder fetches = new LongAdder();
    private final LongAdder bytesServed = new LongAdder();
    private final LongAdder repairs = new LongAdder();
    private final LongAdder prefetches = new LongAdder();
    private final LongAdder prefetchesDropped = new LongAdder();
    /** Chunks fetched but not kept because the space budget had no room (a cache too small). */
    private final LongAdder fetchedNotKept = new LongAdder();
    /** The last fetched chunk found no room; cleared when one is kept again. */
    private volatile boolean full;
    /** Chunks in-order prefetches have not yet handed to the prefetch threads (or skipped). */
    private final AtomicLong prefetchBacklog = new AtomicLong();
    /** The slot semaphores of in-order prefetches running now; {@link #close} wakes them. */
    private final Set<Semaphore> feeders = ConcurrentHashMap.newKeySet();
    private final List<Meter> meters = new ArrayList<>();
    private volatile boolean closed;

    private ChunkCache(final Path directory, final ChunkManifest manifest, final VerifiedChunkSource source,
                       final Options options, final ReopeningFileChannel data, final PresenceBitmap present) {
        this.directory = directory;
        this.manifest = manifest;
        this.source = source;
        this.options = options;
        this.data = data;
        this.present = present;
        this.verified = new AtomicLongArray((manifest.chunkCount() + Long.SIZE - 1) / Long.SIZE);
        String shortId = manifest.imageIdHex().substring(0, SHORT_ID_LENGTH);
        this.committer = Thread.ofPlatform().daemon().name("cache-commit-" + shortId).unstarted(this::commitLoop);
        this.prefetcher = new ThreadPoolExecutor(options.prefetchThreads(), options.prefetchThreads(),
                0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(options.prefetchQueueLength()),
                Thread.ofPlatform().daemon().priority(Thread.MIN_PRIORITY).name("cache-prefetch-" + shortId + "-", 0)
                        .factory());
        registerMeters(shortId);
        committer.start();
    }

    /**
     * Opens (or creates) the cache for {@code manifest} in {@code directory}. Files left by an
     * earlier run are kept when they match the manifest (image id, size); otherwise the cache
     * starts empty. Present chunks are not fetched again, but each is verified on its first read.
     */
    public static ChunkCache open(final Path directory, final ChunkManifest manifest,
                                  final VerifiedChunkSource source, final Options options) throws IOException {
        PrivateFiles.createDirectories(directory);
        Path manifestFile = directory.resolve(MANIFEST_FILE);
        Path dataFile = directory.resolve(DATA_FILE);
        Path presentFile = directory.resolve(PRESENT_FILE);
        if (!manifestMatches(manifestFile, manifest)) {
            ManifestFormat.write(manifest, manifestFile);
        }
        boolean dataOk = Files.exists(dataFile) && Files.size(dataFile) == manifest.imageSize();
        if (!dataOk) {
            // The bitmap cannot describe a data file of the wrong size: drop it first, so a crash
            // during the rebuild below leaves no bit pointing into the old file.
            Files.deleteIfExists(presentFile);
        }
        PresenceBitmap.Opened opened = PresenceBitmap.open(presentFile, manifest);
        if (opened.reset()) {
            LOG.info("cache {}: starting empty ({})", directory, opened.resetReason());
            try (RandomAccessFile raf = new RandomAccessFile(PrivateFiles.createFile(dataFile).toFile(), "rw")) {
                raf.setLength(0);
                raf.setLength(manifest.imageSize());
            }
        }
        ReopeningFileChannel channel;
        try {
            channel = new ReopeningFileChannel(dataFile, true);
        } catch (IOException e) {
            opened.bitmap().close();
            throw e;
        }
        LOG.info("cache {}: {} of {} chunks present", directory, opened.bitmap().presentCount(), manifest.chunkCount());
        return new ChunkCache(directory, manifest, source, options, channel, opened.bitmap());
    }

    private static boolean manifestMatches(final Path file, final ChunkManifest manifest) {
        try {
            return Files.exists(file) && ManifestFormat.read(file).sameImage(manifest);
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return directory.toString();
    }

    public ChunkManifest manifest() {
        return manifest;
    }

    public Path directory() {
        return directory;
    }

    @Override
    public long size() {
        return manifest.imageSize();
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (offset < 0 || offset > manifest.imageSize() - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside image of "
                    + manifest.imageSize() + " bytes");
        }
        if (closed) {
            throw new IOException("cache " + directory + " is closed");
        }
        int chunkSize = manifest.chunkSize();
        ChunkAccessListener listener = options.accessListener();
        long end = offset + length;
        long pos = offset;
        java.util.Map<Integer, CompletableFuture<ByteBuffer>> runOfThisRead = null;
        while (pos < end) {
            int index = (int) (pos / chunkSize);
            long now = System.nanoTime();
            listener.onAccess(index, now);
            ByteBuffer chunk = null;
            CompletableFuture<ByteBuffer> fromRun = runOfThisRead == null ? null : runOfThisRead.remove(index);
            if (fromRun != null) {
                // Fetched by this read's own run: use that copy even if the cache could not keep it,
                // or every later chunk of the read would start a run of its own (a full cache
                // fetched a 16-chunk read 136 times).
                misses.increment();
                chunk = awaitRunChunk(fromRun, index, (int) ((end - 1) / chunkSize));
            } else if (!isReady(index)) {
                misses.increment();
                if (runOfThisRead == null) {
                    runOfThisRead = new java.util.HashMap<>();
                }
                chunk = load(index, (int) ((end - 1) / chunkSize), runOfThisRead);
            } else {
                hits.increment();
            }
            if (chunk == null) {
                // Ready: extend the positional read over the following ready chunks.
                long runEnd = Math.min(end, (long) (index + 1) * chunkSize);
                int next = index + 1;
                while (runEnd < end && isReady(next)) {
                    listener.onAccess(next, now);
                    hits.increment();
                    runEnd = Math.min(end, (long) (next + 1) * chunkSize);
                    next++;
                }
                readData(pos, dst, (int) (runEnd - pos));
                pos = runEnd;
            } else {
                int inChunk = (int) (pos - (long) index * chunkSize);
                int n = (int) Math.min(end - pos, chunk.limit() - inChunk);
                dst.put(dst.position(), chunk, inChunk, n);
                dst.position(dst.position() + n);
                pos += n;
            }
        }
        bytesServed.add(length);
    }

    /**
     * Asks for chunk {@code index} to be fetched in the background. Returns false when it is
     * already cached or in flight, or when the prefetch queue is full (the request is dropped).
     */
    public boolean prefetch(final int index) {
        checkIndex(index);
        if (closed || isReady(index) || inflight.containsKey(index)) {
            return false;
        }
        try {
            prefetcher.execute(() -> prefetchNow(index));
            prefetches.increment();
            return true;
        } catch (RejectedExecutionException e) {
            if (!closed) {
                prefetchesDropped.increment();
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
    public PrefetchReport prefetchInOrder(final List<Integer> chunks) throws InterruptedException {
        for (int index : chunks) {
            checkIndex(index);
        }
        int window = feedWindow();
        Semaphore slots = new Semaphore(window);
        AtomicIntegerArray tally = new AtomicIntegerArray(Outcome.values().length);
        int skippedAtFeed = 0;
        int reached = 0;
        feeders.add(slots);
        prefetchBacklog.addAndGet(chunks.size());
        try {
            for (int index : chunks) {
                if (closed) {
                    break;
                }
                reached++;
                prefetchBacklog.decrementAndGet();
                if (isReady(index) || inflight.containsKey(index)) {
                    skippedAtFeed++;
                    continue;
                }
                slots.acquire();
                boolean queued = false;
                while (!closed && !(queued = handOver(index, slots, tally))) {
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
            prefetchBacklog.addAndGet(reached - chunks.size());
        }
        return new PrefetchReport(chunks.size(), tally.get(Outcome.LOADED.ordinal()),
                skippedAtFeed + tally.get(Outcome.SKIPPED.ordinal()), tally.get(Outcome.FAILED.ordinal()));
    }

    /** Queues chunk {@code index} for an in-order prefetch holding one of {@code slots}; false when the queue is full. */
    private boolean handOver(final int index, final Semaphore slots, final AtomicIntegerArray tally) {
        try {
            prefetcher.execute(() -> {
                try {
                    tally.incrementAndGet(prefetchNow(index).ordinal());
                } finally {
                    slots.release();
                }
            });
            prefetches.increment();
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** A prefetch thread's work on one chunk. */
    private Outcome prefetchNow(final int index) {
        if (closed) {
            return Outcome.ABANDONED;
        }
        if (isReady(index)) {
            return Outcome.SKIPPED;
        }
        if (full) {
            return Outcome.SKIPPED; // it would be fetched and thrown away
        }
        try {
            load(index);
            return Outcome.LOADED;
        } catch (IOException | RuntimeException e) {
            if (closed) {
                return Outcome.ABANDONED; // interrupted by close, not a fault of the chunk
            }
            LOG.debug("prefetch of chunk {} failed: {}", index, e.toString());
            return Outcome.FAILED;
        }
    }

    private int feedWindow() {
        return FEED_WINDOW_PER_THREAD * options.prefetchThreads();
    }

    private void checkIndex(final int index) {
        if (index < 0 || index >= manifest.chunkCount()) {
            throw new IndexOutOfBoundsException("chunk " + index + " outside [0, " + manifest.chunkCount() + ")");
        }
    }

    /**
     * Verifies every present chunk against the manifest again and repairs the ones that fail, for
     * a periodic scrub in a long-running agent (first-read verification alone would miss rot that
     * happens later). Readers are not blocked: a chunk under check is loaded through the same
     * single flight as a miss. Returns the number of chunks repaired.
     */
    public long scrub() throws IOException {
        long before = repairs.sum();
        for (int index = 0; index < manifest.chunkCount() && !closed; index++) {
            if (present.isSet(index)) {
                long mask = 1L << index;
                verified.getAndUpdate(index >>> 6, w -> w & ~mask);
                load(index);
            }
        }
        return repairs.sum() - before;
    }

    /** What {@link #scrubChunk} found. */
    public enum Scrubbed {
        /** Not in the cache: nothing to check. */
        ABSENT,
        /** The cached bytes match the manifest. */
        VERIFIED,
        /** They did not; the chunk was fetched again (verified) and rewritten. */
        REPAIRED
    }

    /**
     * Re-verifies one cached chunk against the manifest and repairs it if it fails, for the
     * background {@link CacheScrubber}: the cached bytes are read and hashed without any lock;
     * only a chunk that fails goes through the load path (the same single flight as a read miss,
     * which checks it again and fetches it from a parent).
     */
    public Scrubbed scrubChunk(final int index) throws IOException {
        if (closed || !present.isSet(index)) {
            return Scrubbed.ABSENT;
        }
        ByteBuffer cached = ByteBuffer.allocate(manifest.chunkLength(index));
        readData(manifest.chunkOffset(index), cached, cached.remaining());
        cached.flip();
        if (manifest.matches(index, cached)) {
            return Scrubbed.VERIFIED;
        }
        long mask = 1L << index;
        verified.getAndUpdate(index >>> 6, w -> w & ~mask);
        load(index);
        return Scrubbed.REPAIRED;
    }

    /** Whether chunk {@code index} is in the cache file (it may still await verification). */
    public boolean isPresent(final int index) {
        return present.isSet(index);
    }

    public CacheStats stats() {
        return new CacheStats(manifest.chunkCount(), present.presentCount(), hits.sum(), misses.sum(),
                fetches.sum(), bytesServed.sum(), repairs.sum(), prefetches.sum());
    }

    /** Chunks fetched but not kept because the cache was full at its limit. */
    public long fetchedNotKept() {
        return fetchedNotKept.sum();
    }

    /** Bytes of image data held in the cache (present chunks), for space accounting. */
    public long cachedBytes() {
        return (long) present.presentCount() * manifest.chunkSize();
    }

    /** Waits until every chunk fetched so far is durable and marked present. */
    @Override
    public void flush() throws IOException {
        if (closed) {
            return;
        }
        CompletableFuture<ByteBuffer> barrier = new CompletableFuture<>();
        commitQueue.add(new Pending(0, null, barrier, false));
        await(barrier, -1);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        prefetcher.shutdownNow();
        // Wake in-order prefetches waiting for a slot; the chunks shutdownNow dropped never free theirs.
        int window = feedWindow();
        feeders.forEach(s -> s.release(window));
        commitQueue.add(STOP);
        try {
            prefetcher.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            committer.join(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Meter m : meters) {
            options.registry().remove(m);
        }
        try {
            present.force();
        } finally {
            present.close();
            data.close();
        }
    }

    private boolean isReady(final int index) {
        return (verified.get(index >>> 6) & (1L << index)) != 0 && present.isSet(index);
    }

    private void markVerified(final int index) {
        long mask = 1L << index;
        verified.getAndUpdate(index >>> 6, w -> w | mask);
    }

    /**
     * Returns chunk {@code index} from a load in flight or one this call starts, or null when
     * the chunk turned out to be ready in the cache file meanwhile.
     */
    private ByteBuffer load(final int index) throws IOException {
        return load(index, index, null);
    }

    /** A chunk of a run this read started; if the run failed, a load of its own (null: ready in the file). */
    private ByteBuffer awaitRunChunk(final CompletableFuture<ByteBuffer> future, final int index, final int last)
            throws IOException {
        try {
            ByteBuffer chunk = await(future, index);
            if (chunk != null) {
                return chunk;
            }
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            if (closed) {
                throw e;
            }
        }
        return isReady(index) ? null : load(index, last, null);
    }

    /**
     * As {@link #load(int)}, and when this call starts the load of a missing chunk, the same
     * upstream request also fetches the missing chunks after it up to {@code last} (a run). The
     * futures of the run's later chunks go into {@code runOut} (when not null), so the reader that
     * started the run uses them.
     */
    private ByteBuffer load(final int index, final int last,
                            final java.util.Map<Integer, CompletableFuture<ByteBuffer>> runOut) throws IOException {
        CompletableFuture<ByteBuffer> joined = inflight.get(index);
        if (joined != null) {
            try {
                return await(joined, index);
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                // Someone else's load failed (a prefetch, a run, a fetcher being replaced): a
                // demand read gets one load of its own before it fails; the failed future is
                // already out of inflight, so this starts a fresh one or joins a newer one.
                LOG.debug("cache {}: joined load of chunk {} failed, loading it again: {}", directory, index,
                        e.toString());
                if (closed) {
                    throw e;
                }
            }
        }
        CompletableFuture<ByteBuffer> future = inflight.get(index);
        if (future == null) {
            CompletableFuture<ByteBuffer> mine = new CompletableFuture<>();
            future = inflight.putIfAbsent(index, mine);
            if (future == null) {
                // The committer sets the bits before it removes its future, so after a successful
                // putIfAbsent a chunk committed meanwhile is visible as ready here.
                if (isReady(index)) {
                    inflight.remove(index, mine);
                    mine.complete(null);
                    return null;
                }
                List<CompletableFuture<ByteBuffer>> run = claimRun(index, last, mine);
                if (runOut != null) {
                    for (int i = 1; i < run.size(); i++) {
                        runOut.put(index + i, run.get(i));
                    }
                }
                if (run.size() == 1) {
                    produce(index, mine);
                } else {
                    produceRun(index, run);
                }
                future = mine;
            }
        }
        return await(future, index);
    }

    /**
     * The futures of a run starting at {@code first} (whose future {@code mine} the caller holds):
     * the following chunks up to {@code last} that are missing (not even present unverified) and
     * that this call claims before anyone else, at most {@value #MAX_RUN_BYTES} bytes in all.
     */
    private List<CompletableFuture<ByteBuffer>> claimRun(final int first, final int last,
                                                         final CompletableFuture<ByteBuffer> mine) {
        List<CompletableFuture<ByteBuffer>> run = new ArrayList<>();
        run.add(mine);
        if (present.isSet(first)) {
            return run; // present but unverified: a verification, not a fetch
        }
        int maxChunks = Math.max(1, MAX_RUN_BYTES / manifest.chunkSize());
        for (int next = first + 1; next <= last && run.size() < maxChunks; next++) {
            if (present.isSet(next) || inflight.containsKey(next)) {
                break;
            }
            CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
            if (inflight.putIfAbsent(next, f) != null) {
                break;
            }
            if (present.isSet(next)) {
                inflight.remove(next, f);
                f.complete(null);
                break;
            }
            run.add(f);
        }
        return run;
    }

    /** Fetches a claimed run with one upstream request; on failure loads each chunk alone. */
    private void produceRun(final int first, final List<CompletableFuture<ByteBuffer>> futures) {
        List<ByteBuffer> fetched;
        try {
            fetched = source.fetchRun(first, futures.size());
            if (fetched.size() != futures.size()) {
                throw new IOException("source returned " + fetched.size() + " chunks for a run of " + futures.size());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cache {}: run of {} chunks at {} failed, loading them one by one: {}", directory,
                    futures.size(), first, e.toString());
            for (int i = 0; i < futures.size(); i++) {
                produce(first + i, futures.get(i));
            }
            return;
        }
        fetches.add(futures.size());
        for (int i = 0; i < futures.size(); i++) {
            deliver(first + i, fetched.get(i).asReadOnlyBuffer(), futures.get(i), false);
        }
    }

    /** Verifies the cached copy, or fetches; completes {@code future} either way. */
    private void produce(final int index, final CompletableFuture<ByteBuffer> future) {
        try {
            boolean wasPresent = present.isSet(index);
            if (wasPresent) {
                ByteBuffer cached = ByteBuffer.allocate(manifest.chunkLength(index));
                readData(manifest.chunkOffset(index), cached, cached.remaining());
                cached.flip();
                if (manifest.matches(index, cached)) {
                    markVerified(index);
                    inflight.remove(index, future);
                    future.complete(cached.asReadOnlyBuffer());
                    return;
                }
                repairs.increment();
                LOG.warn("cache {}: chunk {} fails verification, fetching it again", directory, index);
                present.clearDurably(index);
            }
            fetches.increment();
            deliver(index, source.fetch(index).asReadOnlyBuffer(), future, wasPresent);
        } catch (IOException | RuntimeException | Error e) {
            inflight.remove(index, future);
            future.completeExceptionally(e);
        }
    }

    /** Hands a verified chunk to its readers, then queues it for the committer if there is room. */
    private void deliver(final int index, final ByteBuffer fetched, final CompletableFuture<ByteBuffer> future,
                         final boolean wasPresent) {
        future.complete(fetched);
        // A repaired chunk already holds its space; a new one must find some.
        boolean reserved = !wasPresent && options.spaceBudget().tryReserve(manifest.chunkLength(index));
        if (!wasPresent) {
            noteAdmission(reserved);
        }
        if (!closed && (wasPresent || reserved)) {
            commitQueue.add(new Pending(index, fetched, future, reserved));
        } else {
            if (reserved) {
                options.spaceBudget().release(manifest.chunkLength(index));
            }
            inflight.remove(index, future);
        }
    }

    /**
     * Tracks whether the cache is full: a fetched chunk it could not keep is counted, the first of
     * a full spell is logged, and while full no prefetch fetches chunks that would be thrown away.
     * What the cache holds stays: the chunks read first (a boot's hottest) are not displaced by
     * later ones, so a cache smaller than the working set fetches each missing chunk once per read
     * of it, never a run over and over.
     */
    private void noteAdmission(final boolean kept) {
        if (kept) {
            full = false;
            return;
        }
        fetchedNotKept.increment();
        if (!full) {
            full = true;
            LOG.warn("cache {}: full at its limit ({} of {} chunks held): chunks fetched from now on are served "
                    + "but not kept, and boot-profile prefetch pauses; the working set does not fit, raise "
                    + "--cache-limit (virtman_cache_fetched_not_kept_total counts the refetches)", directory,
                    present.presentCount(), manifest.chunkCount());
        }
    }

    private ByteBuffer await(final CompletableFuture<ByteBuffer> future, final int index) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for chunk " + index);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("loading chunk " + index + " failed: " + cause, cause);
        }
    }

    private void readData(final long position, final ByteBuffer dst, final int length) throws IOException {
        data.readFully(dst.slice(dst.position(), length), position);
        dst.position(dst.position() + length);
    }

    private void commitLoop() {
        List<Pending> batch = new ArrayList<>(options.maxCommitBatch());
        boolean stop = false;
        while (!stop) {
            try {
                batch.add(commitQueue.take());
            } catch (InterruptedException e) {
                // Not interrupted by design; only STOP ends the loop so no batch is lost.
                continue;
            }
            commitQueue.drainTo(batch, options.maxCommitBatch() - 1);
            List<CompletableFuture<ByteBuffer>> barriers = new ArrayList<>();
            List<Pending> chunks = new ArrayList<>(batch.size());
            for (Pending p : batch) {
                if (p == STOP) {
                    stop = true;
                } else if (p.data() == null) {
                    barriers.add(p.future());
                } else {
                    chunks.add(p);
                }
            }
            batch.clear();
            commit(chunks);
            for (CompletableFuture<ByteBuffer> b : barriers) {
                b.complete(null);
            }
        }
    }

    /** Data, then fdatasync, then bits, then the bitmap file: the order that makes a crash harmless. */
    private void commit(final List<Pending> chunks) {
        if (chunks.isEmpty()) {
            return;
        }
        try {
            for (Pending p : chunks) {
                data.writeFully(p.data().duplicate(), manifest.chunkOffset(p.index()));
            }
            data.force();
        } catch (IOException | RuntimeException e) {
            LOG.warn("cache {}: could not store {} chunks, they will be fetched again: {}",
                    directory, chunks.size(), e.toString());
            for (Pending p : chunks) {
                if (p.reserved()) {
                    options.spaceBudget().release(manifest.chunkLength(p.index()));
                }
                inflight.remove(p.index(), p.future());
            }
            return;
        }
        int[] indices = new int[chunks.size()];
        for (int i = 0; i < indices.length; i++) {
            Pending p = chunks.get(i);
            indices[i] = p.index();
            markVerified(p.index());
            present.set(p.index());
            inflight.remove(p.index(), p.future());
        }
        try {
            present.persist(indices, indices.length);
            present.force();
        } catch (IOException | RuntimeException e) {
            LOG.warn("cache {}: could not persist presence bits (chunks stay valid in memory): {}",
                    directory, e.toString());
        }
    }

    private void registerMeters(final String shortId) {
        MeterRegistry r = options.registry();
        Tags tags = Tags.of("image", shortId);
        meters.add(Gauge.builder("virtman.cache.chunks.present", present, PresenceBitmap::presentCount)
                .description("chunks held in the cache file").tags(tags).register(r));
        meters.add(Gauge.builder("virtman.cache.chunks", manifest, ChunkManifest::chunkCount)
                .description("chunks in the image").tags(tags).register(r));
        meters.add(counter(r, "virtman.cache.hits", hits, "chunk reads served from the cache file", tags));
        meters.add(counter(r, "virtman.cache.misses", misses, "chunk reads that waited for a load", tags));
        meters.add(counter(r, "virtman.cache.fetches", fetches, "chunks fetched from upstream", tags));
        meters.add(FunctionCounter.builder("virtman.cache.served", bytesServed, LongAdder::sum)
                .baseUnit("bytes").description("bytes returned to readers").tags(tags).register(r));
        meters.add(counter(r, "virtman.cache.repairs", repairs, "cached chunks that failed verification", tags));
        meters.add(counter(r, "virtman.cache.prefetches", prefetches, "prefetch requests accepted", tags));
        meters.add(counter(r, "virtman.cache.prefetches.dropped", prefetchesDropped,
                "prefetch requests dropped because the prefetch queue was full", tags));
        meters.add(counter(r, "virtman.cache.fetched.not.kept", fetchedNotKept,
                "chunks fetched but not kept: the cache is full at its limit (too small for the working set)", tags));
        meters.add(Gauge.builder("virtman.cache.full", this, c -> c.full ? 1 : 0)
                .description("1 while the cache is full at its limit and fetched chunks are not kept").tags(tags).register(r));
        meters.add(Gauge.builder("virtman.cache.prefetch.backlog", prefetchBacklog, AtomicLong::get)
                .description("chunks in-order prefetches (boot profiles) have yet to queue").tags(tags).register(r));
    }

    private static Meter counter(final MeterRegistry r, final String name, final LongAdder adder,
                                 final String description, final Tags tags) {
        return FunctionCounter.builder(name, adder, LongAdder::sum).description(description).tags(tags).register(r);
    }
}
