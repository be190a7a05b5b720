package dev.virtman.block.cache;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.PrivateFiles;
import dev.virtman.block.ReopeningFileChannel;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * refetch. While a chunk waits for its commit, readers get it from the in-flight buffer
 * ({@link ChunkCommitter}).
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
 * future, so N readers of a missing chunk cause exactly one upstream fetch ({@link ChunkLoader}).
 *
 * <p><b>Prefetch.</b> {@link #prefetch(int)} queues a chunk on a small bounded executor of its
 * own; demand reads never queue behind it, they at most join a prefetch already in flight.
 * {@link #prefetchInOrder} feeds a long list (a boot profile) to the same executor as its
 * threads free up, so the whole list is fetched in order while the queue holds only a few of
 * its chunks and stays open to other requests ({@link Prefetcher}).
 *
 * <p>This class is the read path (hits extend one positional read over the ready chunks that
 * follow) and the cache's lifecycle; its counters and meters are {@link CacheMeters}.
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

    private final Path directory;
    private final ChunkManifest manifest;
    private final VerifiedChunkSource source;
    private final Options options;
    private final ReopeningFileChannel data;
    private final PresenceBitmap present;
    /** Chunks verified against the manifest in this process (in memory only, by design). */
    private final VerifiedChunks verified;
    private final CacheMeters meters;
    private final ChunkCommitter committer;
    private final ChunkLoader loader;
    private final Prefetcher prefetcher;
    private volatile boolean closed;

    private ChunkCache(final Path directory, final ChunkManifest manifest, final VerifiedChunkSource source,
                       final Options options, final ReopeningFileChannel data, final PresenceBitmap present) {
        this.directory = directory;
        this.manifest = manifest;
        this.source = source;
        this.options = options;
        this.data = data;
        this.present = present;
        this.verified = new VerifiedChunks(manifest.chunkCount());
        this.meters = new CacheMeters(options.registry());
        String shortId = manifest.imageIdHex().substring(0, SHORT_ID_LENGTH);
        ConcurrentHashMap<Integer, CompletableFuture<ByteBuffer>> inflight = new ConcurrentHashMap<>();
        this.committer = new ChunkCommitter(directory, manifest, data, present, verified, options.spaceBudget(),
                options.maxCommitBatch(), inflight, "cache-commit-" + shortId);
        this.loader = new ChunkLoader(this, manifest, source, options.spaceBudget(), present, verified, inflight,
                committer, meters);
        this.prefetcher = new Prefetcher(this, loader, meters, options.prefetchThreads(),
                options.prefetchQueueLength(), "cache-prefetch-" + shortId + "-");
        meters.register(shortId, present, manifest, loader);
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
        Map<Integer, CompletableFuture<ByteBuffer>> runOfThisRead = null;
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
                meters.misses.increment();
                chunk = loader.awaitRunChunk(fromRun, index, (int) ((end - 1) / chunkSize));
            } else if (!isReady(index)) {
                meters.misses.increment();
                if (runOfThisRead == null) {
                    runOfThisRead = new HashMap<>();
                }
                chunk = loader.load(index, (int) ((end - 1) / chunkSize), runOfThisRead);
            } else {
                meters.hits.increment();
            }
            if (chunk == null) {
                // Ready: extend the positional read over the following ready chunks.
                long runEnd = Math.min(end, (long) (index + 1) * chunkSize);
                int next = index + 1;
                while (runEnd < end && isReady(next)) {
                    listener.onAccess(next, now);
                    meters.hits.increment();
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
        meters.bytesServed.add(length);
    }

    /**
     * Asks for chunk {@code index} to be fetched in the background. Returns false when it is
     * already cached or in flight, or when the prefetch queue is full (the request is dropped).
     */
    public boolean prefetch(final int index) {
        checkIndex(index);
        return prefetcher.prefetch(index);
    }

    /**
     * Prefetches {@code chunks} in list order on the prefetch threads and returns once every one
     * of them has been loaded, skipped or failed, or the cache closed. Unlike {@link #prefetch},
     * nothing is dropped: the caller's thread waits while a few chunks per prefetch thread are
     * queued or running, and hands over the next one as a slot frees, so a list longer than the
     * queue costs no memory beyond the list itself. A chunk already cached or in flight (a demand
     * read got there first) when its turn comes is skipped; a failed one is counted and not
     * retried (a demand read for it fetches it). Demand reads run on their own threads and never
     * wait for this.
     *
     * @throws IndexOutOfBoundsException when a chunk is outside the image (before anything is queued)
     * @throws InterruptedException      when the calling thread is interrupted; chunks already
     *                                   handed over still complete
     */
    public PrefetchReport prefetchInOrder(final List<Integer> chunks) throws InterruptedException {
        for (int index : chunks) {
            checkIndex(index);
        }
        return prefetcher.prefetchInOrder(chunks);
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
        long before = meters.repairs.sum();
        for (int index = 0; index < manifest.chunkCount() && !closed; index++) {
            if (present.isSet(index)) {
                verified.remove(index);
                loader.load(index);
            }
        }
        return meters.repairs.sum() - before;
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
        verified.remove(index);
        loader.load(index);
        return Scrubbed.REPAIRED;
    }

    /** Whether chunk {@code index} is in the cache file (it may still await verification). */
    public boolean isPresent(final int index) {
        return present.isSet(index);
    }

    public CacheStats stats() {
        return new CacheStats(manifest.chunkCount(), present.presentCount(), meters.hits.sum(), meters.misses.sum(),
                meters.fetches.sum(), meters.bytesServed.sum(), meters.repairs.sum(), meters.prefetches.sum());
    }

    /** Chunks fetched but not kept because the cache was full at its limit. */
    public long fetchedNotKept() {
        return meters.fetchedNotKept.sum();
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
        ChunkLoader.await(committer.barrier(), -1);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        prefetcher.stop();
        committer.stop();
        try {
            prefetcher.awaitTermination(CLOSE_WAIT_SECONDS);
            committer.join(CLOSE_WAIT_SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        meters.remove();
        try {
            present.force();
        } finally {
            present.close();
            data.close();
        }
    }

    /** Every chunk of the range is ready (present and verified): the read is a positional read of the data file. */
    @Override
    public boolean readsWithoutWaiting(final long offset, final int length) {
        if (closed || length <= 0 || offset < 0 || offset > manifest.imageSize() - length) {
            return false;
        }
        int chunkSize = manifest.chunkSize();
        int last = (int) ((offset + length - 1) / chunkSize);
        for (int i = (int) (offset / chunkSize); i <= last; i++) {
            if (!isReady(i)) {
                return false;
            }
        }
        return true;
    }

    /** Present and verified in this process: served by a plain positional read. */
    boolean isReady(final int index) {
        return verified.contains(index) && present.isSet(index);
    }

    boolean isClosed() {
        return closed;
    }

    void readData(final long position, final ByteBuffer dst, final int length) throws IOException {
        data.readFully(dst.slice(dst.position(), length), position);
        dst.position(dst.position() + length);
    }
}
