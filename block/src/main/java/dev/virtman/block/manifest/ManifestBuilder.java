package dev.virtman.block.manifest;

import dev.virtman.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.DigestException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Computes an image's {@link ChunkManifest} when it is registered. Chunks are hashed by a few
 * worker threads that each claim the next chunk index, so a 4 GiB image takes about
 * size / (threads x SHA-256 speed); the caller's thread only reports progress.
 */
public final class ManifestBuilder {
    /** How often the progress listener hears from the builder. */
    private static final long PROGRESS_INTERVAL_MILLIS = 500;

    /** Receives progress on the thread that called {@code build}. */
    @FunctionalInterface
    public interface ProgressListener {
        void progress(long bytesHashed, long bytesTotal);

        ProgressListener NONE = (done, total) -> { };
    }

    private final int chunkSize;
    private final int threads;
    private final ProgressListener progress;

    public ManifestBuilder(final int chunkSize, final int threads, final ProgressListener progress) {
        ChunkManifest.checkChunkSize(chunkSize);
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.chunkSize = chunkSize;
        this.threads = threads;
        this.progress = progress;
    }

    /** A builder with the default chunk size, one thread per core and no progress reports. */
    public static ManifestBuilder withDefaults() {
        return new ManifestBuilder(ChunkManifest.DEFAULT_CHUNK_SIZE,
                Runtime.getRuntime().availableProcessors(), ProgressListener.NONE);
    }

    /** Hashes a raw image file of any size. */
    public ChunkManifest build(final Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            long size = ch.size();
            return build(size, (offset, dst) -> {
                long pos = offset;
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, pos);
                    if (n < 0) {
                        throw new IOException(image + " shrank while hashing (EOF at " + pos + ")");
                    }
                    pos += n;
                }
            });
        }
    }

    /** Hashes every chunk of {@code device}. */
    public ChunkManifest build(final BlockDevice device) throws IOException {
        return build(device.size(), device::read);
    }

    @FunctionalInterface
    private interface PositionalReader {
        void read(long offset, ByteBuffer dst) throws IOException;
    }

    private ChunkManifest build(final long imageSize, final PositionalReader reader) throws IOException {
        ChunkManifest.checkGeometry(imageSize, chunkSize);
        int count = Math.toIntExact(ChunkManifest.chunkCount(imageSize, chunkSize));
        byte[] hashes = new byte[count * ChunkManifest.HASH_LENGTH];
        AtomicInteger next = new AtomicInteger();
        AtomicLong hashed = new AtomicLong();
        int workers = Math.min(threads, count);
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "manifest-hasher");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Void>> results = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                results.add(pool.submit(() -> {
                    hashChunks(imageSize, reader, hashes, next, hashed, count);
                    return null;
                }));
            }
            for (Future<Void> result : results) {
                awaitWithProgress(result, hashed, imageSize);
            }
        } finally {
            pool.shutdownNow();
        }
        progress.progress(imageSize, imageSize);
        return ChunkManifest.of(imageSize, chunkSize, hashes);
    }

    private void hashChunks(final long imageSize, final PositionalReader reader, final byte[] hashes,
                            final AtomicInteger next, final AtomicLong hashed, final int count)
            throws IOException, DigestException {
        ByteBuffer buf = ByteBuffer.allocateDirect(chunkSize);
        MessageDigest digest = ChunkManifest.newDigest();
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            long offset = (long) i * chunkSize;
            int length = (int) Math.min(chunkSize, imageSize - offset);
            buf.clear().limit(length);
            reader.read(offset, buf);
            buf.flip();
            digest.update(buf);
            digest.digest(hashes, i * ChunkManifest.HASH_LENGTH, ChunkManifest.HASH_LENGTH);
            hashed.addAndGet(length);
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    private void awaitWithProgress(final Future<Void> result, final AtomicLong hashed, final long total)
            throws IOException {
        while (true) {
            try {
                result.get(PROGRESS_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                progress.progress(hashed.get(), total);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while hashing", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IOException("hashing failed: " + e.getCause(), e.getCause());
            }
        }
    }
}
