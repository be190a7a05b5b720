package dev.virtman.block.cache;

import dev.virtman.block.ReopeningFileChannel;
import dev.virtman.block.manifest.ChunkManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single committer thread of a {@link ChunkCache}: takes fetched chunks in batches, writes
 * them to the {@code data} file, forces it (fdatasync), and only then sets their presence bits
 * and writes and forces the {@code present} file. A crash at any point leaves every set bit
 * pointing at durable data; a bit that did not make it costs one refetch. A chunk's single
 * flight future leaves {@code inflight} only after its bit is set, so readers always find it
 * either in flight (in memory) or ready in the file.
 */
final class ChunkCommitter {

    private static final Logger LOG = LoggerFactory.getLogger(ChunkCommitter.class);

    /** A chunk waiting for the committer; a null {@code data} is a flush barrier, index -1 the stop signal. */
    private record Pending(int index, ByteBuffer data, CompletableFuture<ByteBuffer> future, boolean reserved) { }

    private static final Pending STOP = new Pending(-1, null, null, false);

    private final Path directory;
    private final ChunkManifest manifest;
    private final ReopeningFileChannel data;
    private final PresenceBitmap present;
    private final VerifiedChunks verified;
    private final SpaceBudget spaceBudget;
    private final int maxCommitBatch;
    /** The single flight map: a chunk leaves it once durable (or dropped). */
    private final ConcurrentHashMap<Integer, CompletableFuture<ByteBuffer>> inflight;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread thread;

    ChunkCommitter(final Path directory, final ChunkManifest manifest, final ReopeningFileChannel data,
                   final PresenceBitmap present, final VerifiedChunks verified, final SpaceBudget spaceBudget,
                   final int maxCommitBatch,
                   final ConcurrentHashMap<Integer, CompletableFuture<ByteBuffer>> inflight, final String threadName) {
        this.directory = directory;
        this.manifest = manifest;
        this.data = data;
        this.present = present;
        this.verified = verified;
        this.spaceBudget = spaceBudget;
        this.maxCommitBatch = maxCommitBatch;
        this.inflight = inflight;
        this.thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::commitLoop);
    }

    void start() {
        thread.start();
    }

    /**
     * Queues a verified chunk; its future stays in flight until the chunk is durable.
     *
     * @param reserved whether the chunk holds space in the budget that a failed write gives back
     */
    void add(final int index, final ByteBuffer chunk, final CompletableFuture<ByteBuffer> future,
             final boolean reserved) {
        queue.add(new Pending(index, chunk, future, reserved));
    }

    /** A future that completes once every chunk queued before it is durable. */
    CompletableFuture<ByteBuffer> barrier() {
        CompletableFuture<ByteBuffer> barrier = new CompletableFuture<>();
        queue.add(new Pending(0, null, barrier, false));
        return barrier;
    }

    /** Asks the thread to commit what is queued and end. */
    void stop() {
        queue.add(STOP);
    }

    /** Waits up to {@code seconds} for the thread to end after {@link #stop}. */
    void join(final long seconds) throws InterruptedException {
        thread.join(TimeUnit.SECONDS.toMillis(seconds));
    }

    private void commitLoop() {
        List<Pending> batch = new ArrayList<>(maxCommitBatch);
        boolean stop = false;
        while (!stop) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                // Not interrupted by design; only STOP ends the loop so no batch is lost.
                continue;
            }
            queue.drainTo(batch, maxCommitBatch - 1);
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
                    spaceBudget.release(manifest.chunkLength(p.index()));
                }
                inflight.remove(p.index(), p.future());
            }
            return;
        }
        int[] indices = new int[chunks.size()];
        for (int i = 0; i < indices.length; i++) {
            Pending p = chunks.get(i);
            indices[i] = p.index();
            verified.add(p.index());
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
}
