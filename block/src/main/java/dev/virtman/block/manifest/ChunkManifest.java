package dev.virtman.block.manifest;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The integrity root of an image: its size, its chunk size and the SHA-256 of every chunk, made
 * once when the image is registered ({@link ManifestBuilder}). Every chunk fetched from a parent
 * or read back from a local cache is checked against it before a VM sees it.
 *
 * <p>The image id is the SHA-256 of the manifest's encoding ({@link ManifestFormat}), so two hosts
 * that agree on the id agree on every byte of the image. The last chunk may be shorter than
 * {@link #chunkSize()}; its hash covers only its real bytes.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class ChunkManifest {
    /** Length of one SHA-256 digest. */
    public static final int HASH_LENGTH = 32;
    /** Smallest chunk size accepted: one 4 KiB page, the unit of a sparse file's allocation. */
    public static final int MIN_CHUNK_SIZE = 4096;
    /** Largest chunk size accepted: bounds the buffer one fetch needs. */
    public static final int MAX_CHUNK_SIZE = 16 << 20;
    /** Default chunk size, chosen by measurement (docs/design/chunk-cache.md). */
    public static final int DEFAULT_CHUNK_SIZE = 64 << 10;

    private final long imageSize;
    private final int chunkSize;
    private final byte[] hashes;
    private final byte[] imageId;

    private ChunkManifest(final long imageSize, final int chunkSize, final byte[] hashes, final byte[] imageId) {
        this.imageSize = imageSize;
        this.chunkSize = chunkSize;
        this.hashes = hashes;
        this.imageId = imageId;
    }

    /**
     * Makes a manifest from the concatenated chunk hashes ({@code chunkCount(imageSize, chunkSize)}
     * times {@link #HASH_LENGTH} bytes). The array is copied.
     */
    public static ChunkManifest of(final long imageSize, final int chunkSize, final byte[] hashes) {
        checkGeometry(imageSize, chunkSize);
        long count = chunkCount(imageSize, chunkSize);
        if (hashes.length != count * HASH_LENGTH) {
            throw new IllegalArgumentException("expected " + count + " hashes (" + count * HASH_LENGTH
                    + " bytes), got " + hashes.length + " bytes");
        }
        byte[] copy = hashes.clone();
        byte[] id = sha256(ManifestFormat.encode(imageSize, chunkSize, copy));
        return new ChunkManifest(imageSize, chunkSize, copy, id);
    }

    /** Throws {@link IllegalArgumentException} unless the geometry is one VirtMan accepts. */
    static void checkGeometry(final long imageSize, final int chunkSize) {
        checkChunkSize(chunkSize);
        if (imageSize <= 0) {
            throw new IllegalArgumentException("image size " + imageSize + " must be positive");
        }
        if (chunkCount(imageSize, chunkSize) > ManifestFormat.MAX_CHUNKS) {
            throw new IllegalArgumentException("image of " + imageSize + " bytes has more than "
                    + ManifestFormat.MAX_CHUNKS + " chunks of " + chunkSize + " bytes");
        }
    }

    /** Throws {@link IllegalArgumentException} unless {@code chunkSize} is a power of two in range. */
    public static void checkChunkSize(final int chunkSize) {
        if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " is not a power of two in ["
                    + MIN_CHUNK_SIZE + ", " + MAX_CHUNK_SIZE + "]");
        }
    }

    static long chunkCount(final long imageSize, final int chunkSize) {
        return (imageSize + chunkSize - 1) / chunkSize;
    }

    public long imageSize() {
        return imageSize;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public int chunkCount() {
        return hashes.length / HASH_LENGTH;
    }

    /** Byte offset of chunk {@code index} in the image. */
    public long chunkOffset(final int index) {
        checkIndex(index);
        return (long) index * chunkSize;
    }

    /** Length of chunk {@code index}: {@link #chunkSize()} except possibly for the last one. */
    public int chunkLength(final int index) {
        checkIndex(index);
        return (int) Math.min(chunkSize, imageSize - (long) index * chunkSize);
    }

    /** Index of the chunk holding byte {@code offset}. */
    public int chunkIndexOf(final long offset) {
        if (offset < 0 || offset >= imageSize) {
            throw new IllegalArgumentException("offset " + offset + " outside image of " + imageSize + " bytes");
        }
        return (int) (offset / chunkSize);
    }

    /** A copy of the SHA-256 of chunk {@code index}. */
    public byte[] hash(final int index) {
        checkIndex(index);
        return Arrays.copyOfRange(hashes, index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
    }

    /**
     * Whether the remaining bytes of {@code data} are exactly chunk {@code index} (right length,
     * right SHA-256). Does not move {@code data}'s position.
     */
    public boolean matches(final int index, final ByteBuffer data) {
        checkIndex(index);
        if (data.remaining() != chunkLength(index)) {
            return false;
        }
        MessageDigest digest = newDigest();
        digest.update(data.duplicate());
        byte[] actual = digest.digest();
        return Arrays.equals(actual, 0, HASH_LENGTH, hashes, index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
    }

    /** The image id: SHA-256 over this manifest's encoding. */
    public byte[] imageId() {
        return imageId.clone();
    }

    /** The image id as 64 lowercase hex digits; also the name of the image's cache directory. */
    public String imageIdHex() {
        return HexFormat.of().formatHex(imageId);
    }

    /** The binary encoding ({@link ManifestFormat}). */
    public byte[] encode() {
        return ManifestFormat.encode(imageSize, chunkSize, hashes);
    }

    /** Whether {@code other} describes the same image (same id). */
    public boolean sameImage(final ChunkManifest other) {
        return MessageDigest.isEqual(imageId, other.imageId);
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof ChunkManifest m && sameImage(m);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(imageId);
    }

    @Override
    public String toString() {
        return "ChunkManifest[id=" + imageIdHex().substring(0, 16) + ", size=" + imageSize
                + ", chunk=" + chunkSize + ", chunks=" + chunkCount() + "]";
    }

    private void checkIndex(final int index) {
        if (index < 0 || index >= chunkCount()) {
            throw new IndexOutOfBoundsException("chunk " + index + " outside [0, " + chunkCount() + ")");
        }
    }

    /** A fresh SHA-256 digest; the algorithm is mandatory in every Java SE platform. */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory in Java SE", e);
        }
    }

    static byte[] sha256(final byte[] bytes) {
        return newDigest().digest(bytes);
    }
}
