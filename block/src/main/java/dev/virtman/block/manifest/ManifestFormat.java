package dev.virtman.block.manifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The manifest file format, version 1. All integers are big-endian (network order, like the
 * rest of VirtMan's wire formats).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Magic "VMMF" (0x564D4D46)                 |  0
 * +-------------------------------+-------------------------------+
 * |          Version (1)          |    Hash algorithm (1=SHA-256) |  4
 * +-------------------------------+-------------------------------+
 * |                   Chunk size (power of two)                   |  8
 * +---------------------------------------------------------------+
 * |                       Reserved (zero)                         | 12
 * +---------------------------------------------------------------+
 * |                    Image size in bytes (64)                   | 16
 * +---------------------------------------------------------------+
 * |                      Chunk count (64)                         | 24
 * +---------------------------------------------------------------+
 * |        Chunk 0 SHA-256 (32 bytes), chunk 1 SHA-256, ...       | 32
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <p>The image id is the SHA-256 of the whole file. Parsing is bounded: the header is checked
 * (magic, version, geometry, count = ceil(size / chunk size) &le; {@link #MAX_CHUNKS}) and the
 * file's length must equal {@code 32 + 32 * count} before any hash array is allocated, so a lying
 * header cannot make the reader allocate more than the file really holds.
 */
public final class ManifestFormat {
    public static final int MAGIC = 0x564D4D46;
    public static final int VERSION = 1;
    public static final int HASH_SHA256 = 1;
    /** 16 Mi chunks: 512 MiB of hashes, 1 TiB images at 64 KiB chunks. */
    public static final long MAX_CHUNKS = 1L << 24;

    static final int OFFSET_MAGIC = 0;
    static final int OFFSET_VERSION = 4;
    static final int OFFSET_HASH_ALGORITHM = 6;
    static final int OFFSET_CHUNK_SIZE = 8;
    static final int OFFSET_RESERVED = 12;
    static final int OFFSET_IMAGE_SIZE = 16;
    static final int OFFSET_CHUNK_COUNT = 24;
    public static final int HEADER_LENGTH = 32;

    private ManifestFormat() {
    }

    static byte[] encode(final long imageSize, final int chunkSize, final byte[] hashes) {
        ByteBuffer out = ByteBuffer.allocate(HEADER_LENGTH + hashes.length).order(ByteOrder.BIG_ENDIAN);
        out.putInt(OFFSET_MAGIC, MAGIC);
        out.putShort(OFFSET_VERSION, (short) VERSION);
        out.putShort(OFFSET_HASH_ALGORITHM, (short) HASH_SHA256);
        out.putInt(OFFSET_CHUNK_SIZE, chunkSize);
        out.putInt(OFFSET_RESERVED, 0);
        out.putLong(OFFSET_IMAGE_SIZE, imageSize);
        out.putLong(OFFSET_CHUNK_COUNT, hashes.length / ChunkManifest.HASH_LENGTH);
        out.put(HEADER_LENGTH, hashes);
        return out.array();
    }

    /** Parses a manifest held entirely in {@code bytes}. */
    public static ChunkManifest decode(final byte[] bytes) throws ManifestFormatException {
        long count = checkHeader(ByteBuffer.wrap(bytes, 0, Math.min(bytes.length, HEADER_LENGTH)).slice(), bytes.length);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte[] hashes = new byte[Math.toIntExact(count * ChunkManifest.HASH_LENGTH)];
        in.get(HEADER_LENGTH, hashes);
        return build(in, hashes);
    }

    /** Reads and parses a manifest file. */
    public static ChunkManifest read(final Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = ch.size();
            ByteBuffer header = ByteBuffer.allocate((int) Math.min(length, HEADER_LENGTH));
            readFully(ch, header, 0);
            long count;
            try {
                count = checkHeader(header.flip(), length);
            } catch (ManifestFormatException e) {
                throw e.in(file);
            }
            ByteBuffer hashes = ByteBuffer.allocate(Math.toIntExact(count * ChunkManifest.HASH_LENGTH));
            readFully(ch, hashes, HEADER_LENGTH);
            return build(header, hashes.array());
        }
    }

    /** Writes {@code manifest} to {@code file} atomically (temporary file, force, rename). */
    public static void write(final ChunkManifest manifest, final Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(manifest.encode());
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Validates the header against the total length; returns the chunk count. */
    private static long checkHeader(final ByteBuffer header, final long totalLength) throws ManifestFormatException {
        if (header.remaining() < HEADER_LENGTH) {
            throw new ManifestFormatException("truncated header: " + totalLength + " bytes, need " + HEADER_LENGTH);
        }
        int magic = header.getInt(OFFSET_MAGIC);
        if (magic != MAGIC) {
            throw new ManifestFormatException(String.format("bad magic 0x%08X, not a VirtMan manifest", magic));
        }
        int version = Short.toUnsignedInt(header.getShort(OFFSET_VERSION));
        if (version != VERSION) {
            throw new ManifestFormatException("unsupported manifest version " + version + " (this build reads " + VERSION + ")");
        }
        int algorithm = Short.toUnsignedInt(header.getShort(OFFSET_HASH_ALGORITHM));
        if (algorithm != HASH_SHA256) {
            throw new ManifestFormatException("unsupported hash algorithm " + algorithm + " (1 = SHA-256)");
        }
        if (header.getInt(OFFSET_RESERVED) != 0) {
            throw new ManifestFormatException("reserved field is not zero");
        }
        int chunkSize = header.getInt(OFFSET_CHUNK_SIZE);
        long imageSize = header.getLong(OFFSET_IMAGE_SIZE);
        try {
            ChunkManifest.checkGeometry(imageSize, chunkSize);
        } catch (IllegalArgumentException e) {
            throw new ManifestFormatException(e.getMessage());
        }
        long count = header.getLong(OFFSET_CHUNK_COUNT);
        long expected = ChunkManifest.chunkCount(imageSize, chunkSize);
        if (count != expected) {
            throw new ManifestFormatException("chunk count " + count + " does not match image size " + imageSize
                    + " / chunk size " + chunkSize + " = " + expected);
        }
        long expectedLength = HEADER_LENGTH + count * ChunkManifest.HASH_LENGTH;
        if (totalLength != expectedLength) {
            throw new ManifestFormatException("length " + totalLength + " bytes, header says " + expectedLength);
        }
        return count;
    }

    private static ChunkManifest build(final ByteBuffer header, final byte[] hashes) {
        return ChunkManifest.of(header.getLong(OFFSET_IMAGE_SIZE), header.getInt(OFFSET_CHUNK_SIZE), hashes);
    }

    private static void readFully(final FileChannel ch, final ByteBuffer dst, final long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new ManifestFormatException("file shrank while reading at " + pos);
            }
            pos += n;
        }
    }
}
