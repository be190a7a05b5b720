package dev.virtman.bench.storm;

import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.manager.ChunkManifestProvider;
import dev.virtman.manager.ManifestProvider;
import dev.virtman.manager.model.ManifestSummary;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestException;
import java.security.MessageDigest;

/**
 * The manager's manifest provider for a {@link StormImage}: hashes only the regions that hold
 * data and reuses the hash of a zero chunk for the rest, so registering a 4 GiB storm image
 * takes a fraction of a second instead of hashing 4 GiB on a busy 2-core machine. The manifest
 * is byte-for-byte what {@code ManifestBuilder} would produce for the same file.
 */
public final class SparseManifestProvider implements ManifestProvider {
    private final StormImage image;
    private final int chunkSize;

    public SparseManifestProvider(final StormImage image, final int chunkSize) {
        ChunkManifest.checkChunkSize(chunkSize);
        if (StormImage.REGION_BYTES % chunkSize != 0) {
            throw new IllegalArgumentException("chunk size must divide " + StormImage.REGION_BYTES + ": " + chunkSize);
        }
        this.image = image;
        this.chunkSize = chunkSize;
    }

    @Override
    public ManifestSummary build(final Path path, final Path manifestDir) throws IOException {
        if (!path.toAbsolutePath().equals(image.path().toAbsolutePath())) {
            throw new IOException("this provider only hashes the storm image " + image.path() + ", not " + path);
        }
        return ChunkManifestProvider.store(manifest(), manifestDir);
    }

    private ChunkManifest manifest() throws IOException {
        int count = Math.toIntExact(image.size() / chunkSize);
        int chunksPerRegion = StormImage.REGION_BYTES / chunkSize;
        byte[] hashes = new byte[count * ChunkManifest.HASH_LENGTH];
        MessageDigest digest = ChunkManifest.newDigest();
        byte[] zeroHash = digest.digest(new byte[chunkSize]);
        ByteBuffer buf = ByteBuffer.allocate(chunkSize);
        try (FileChannel ch = FileChannel.open(image.path(), StandardOpenOption.READ)) {
            for (int i = 0; i < count; i++) {
                if (!image.hasData(i / chunksPerRegion)) {
                    System.arraycopy(zeroHash, 0, hashes, i * ChunkManifest.HASH_LENGTH, ChunkManifest.HASH_LENGTH);
                    continue;
                }
                long offset = (long) i * chunkSize;
                buf.clear();
                while (buf.hasRemaining()) {
                    if (ch.read(buf, offset + buf.position()) < 0) {
                        throw new IOException("image shorter than expected at " + offset);
                    }
                }
                digest.update(buf.flip());
                digest.digest(hashes, i * ChunkManifest.HASH_LENGTH, ChunkManifest.HASH_LENGTH);
            }
        } catch (DigestException e) {
            throw new IOException("SHA-256 digest failed", e);
        }
        return ChunkManifest.of(image.size(), chunkSize, hashes);
    }
}
