package dev.virtman.block.cache;

import dev.virtman.block.manifest.ChunkManifest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single flight for the chunks of a {@link ChunkCache} that are not ready: every such chunk is
 * loaded through one {@link CompletableFuture} in {@code inflight}. The first reader produces it
 * on its own thread (verify the cached copy, or fetch it from the {@link VerifiedChunkSource},
 * with the missing chunks after it as one run); concurrent readers wait on the same future, so N
 * readers of a missing chunk cause exactly one upstream fetch. A fetched chunk goes to its
 * readers at once and to the {@link ChunkCommitter} if the space budget has room for it.
 */
final class ChunkLoader {

    private static final Logger LOG = LoggerFactory.getLogger(ChunkLoader.class);

    private final ChunkCache cache;
    private final Path directory;
    private final ChunkManifest manifest;
    private final VerifiedChunkSource source;
    private final SpaceBudget spaceBudget;
    private final PresenceBitmap present;
    private final VerifiedChunks verified;
    private final ConcurrentHashMap<Integer, CompletableFuture<ByteBuffer>> inflight;
    private final ChunkCommitter committer;
    private final CacheMeters meters;
    /** The last fetched chunk found no room; cleared when one is kept again. */
    private volatile boolean full;

    ChunkLoader(final ChunkCache cache, final ChunkManifest manifest, final VerifiedChunkSource source,
                final SpaceBudget spaceBudget, final PresenceBitmap present, final VerifiedChunks verified,
                final ConcurrentHashMap<Integer, CompletableFuture<ByteBuffer>> inflight,
                final ChunkCommitter committer, final CacheMeters meters) {
        this.cache = cache;
        this.directory = cache.directory();
        this.manifest = manifest;
        this.source = source;
        this.spaceBudget = spaceBudget;
        this.present = present;
        this.verified = verified;
        this.inflight = inflight;
        this.committer = committer;
        this.meters = meters;
    }

    /** Whether a load of chunk {@code index} is in flight. */
    boolean inFlight(final int index) {
        return inflight.containsKey(index);
    }

    /** Whether the last fetched chunk found no room in the space budget. */
    boolean isFull() {
        return full;
    }

    /**
     * Returns chunk {@code index} from a load in flight or one this call starts, or null when
     * the chunk turned out to be ready in the cache file meanwhile.
     */
    ByteBuffer load(final int index) throws IOException {
        return load(index, index, null);
    }

    /** A chunk of a run this read started; if the run failed, a load of its own (null: ready in the file). */
    ByteBuffer awaitRunChunk(final CompletableFuture<ByteBuffer> future, final int index, final int last)
            throws IOException {
        try {
            ByteBuffer chunk = await(future, index);
            if (chunk != null) {
                return chunk;
            }
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            if (cache.isClosed()) {
                throw e;
            }
        }
        return cache.isReady(index) ? null : load(index, last, null);
    }

    /**
     * As {@link #load(int)}, and when this call starts the load of a missing chunk, the same
     * upstream request also fetches the missing chunks after it up to {@code last} (a run). The
     * futures of the run's later chunks go into {@code runOut} (when not null), so the reader that
     * started the run uses them.
     */
    ByteBuffer load(final int index, final int last,
                            final Map<Integer, CompletableFuture<ByteBuffer>> runOut) throws IOException {
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
                if (cache.isClosed()) {
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
                if (cache.isReady(index)) {
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
     * that this call claims before anyone else, at most {@value ChunkCache#MAX_RUN_BYTES} bytes in all.
     */
    private List<CompletableFuture<ByteBuffer>> claimRun(final int first, final int last,
                                                         final CompletableFuture<ByteBuffer> mine) {
        List<CompletableFuture<ByteBuffer>> run = new ArrayList<>();
        run.add(mine);
        if (present.isSet(first)) {
            return run; // present but unverified: a verification, not a fetch
        }
        int maxChunks = Math.max(1, ChunkCache.MAX_RUN_BYTES / manifest.chunkSize());
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
        meters.fetches.add(futures.size());
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
                cache.readData(manifest.chunkOffset(index), cached, cached.remaining());
                cached.flip();
                if (manifest.matches(index, cached)) {
                    verified.add(index);
                    inflight.remove(index, future);
                    future.complete(cached.asReadOnlyBuffer());
                    return;
                }
                meters.repairs.increment();
                LOG.warn("cache {}: chunk {} fails verification, fetching it again", directory, index);
                present.clearDurably(index);
            }
            meters.fetches.increment();
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
        boolean reserved = !wasPresent && spaceBudget.tryReserve(manifest.chunkLength(index));
        if (!wasPresent) {
            noteAdmission(reserved);
        }
        if (!cache.isClosed() && (wasPresent || reserved)) {
            committer.add(index, fetched, future, reserved);
        } else {
            if (reserved) {
                spaceBudget.release(manifest.chunkLength(index));
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
        meters.fetchedNotKept.increment();
        if (!full) {
            full = true;
            LOG.warn("cache {}: full at its limit ({} of {} chunks held): chunks fetched from now on are served "
                    + "but not kept, and boot-profile prefetch pauses; the working set does not fit, raise "
                    + "--cache-limit (virtman_cache_fetched_not_kept_total counts the refetches)", directory,
                    present.presentCount(), manifest.chunkCount());
        }
    }

    static ByteBuffer await(final CompletableFuture<ByteBuffer> future, final int index) throws IOException {
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
}
