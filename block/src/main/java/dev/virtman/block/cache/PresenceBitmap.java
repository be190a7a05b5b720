package dev.virtman.block.cache;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.AtomicBitmap;
import dev.virtman.block.BitmapFile;
import dev.virtman.block.manifest.ChunkManifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Which chunks of an image are held in its cache data file: one bit per chunk, in memory for the
 * hot path and in a small file so a restart keeps the cache.
 *
 * <p>Durability rule: a bit is set only after the chunk's data has been forced to disk by the
 * caller ({@link ChunkCache}'s committer), so a bit on disk never points at data that a crash
 * could lose. Bits reach the file in batches ({@link #persist}) followed by {@link #force()}; a
 * bit lost in a crash just means the chunk is fetched again. Even a wrong bit is harmless:
 * cached data is verified against the manifest before it is first served in each process.
 *
 * <p>The bit words and their updates are {@link BitmapFile}'s; this class owns the header.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Magic "VMPB" (0x564D5042)                 |  0
 * +-------------------------------+-------------------------------+
 * |          Version (1)          |        Reserved (zero)        |  4
 * +-------------------------------+-------------------------------+
 * |                      Chunk count (64)                         |  8
 * +---------------------------------------------------------------+
 * |               Image id (SHA-256 of the manifest, 32)          | 16
 * +---------------------------------------------------------------+
 * |                       Reserved (16, zero)                     | 48
 * +---------------------------------------------------------------+
 * |  Bit words: word w (64 bits, big-endian) holds chunks 64w ..  | 64
 * |  64w+63, chunk i is bit (i mod 64), least significant first   |
 * +---------------------------------------------------------------+
 * </pre>
 */
final class PresenceBitmap implements AutoCloseable {
    static final int MAGIC = 0x564D5042;
    static final int VERSION = 1;
    static final int OFFSET_MAGIC = 0;
    static final int OFFSET_VERSION = 4;
    static final int OFFSET_CHUNK_COUNT = 8;
    static final int OFFSET_IMAGE_ID = 16;

    private final BitmapFile file;
    private final int chunkCount;
    private final AtomicBitmap present;

    private PresenceBitmap(final BitmapFile file, final int chunkCount, final AtomicBitmap present) {
        this.file = file;
        this.chunkCount = chunkCount;
        this.present = present;
    }

    /** Result of opening: the bitmap and whether the old file had to be discarded. */
    record Opened(PresenceBitmap bitmap, boolean reset, String resetReason) { }

    /**
     * Opens the bitmap file for {@code manifest}, or starts an empty one when the file is missing
     * or belongs to another image or format (the reason is reported, and the caller must then
     * treat the data file as empty too).
     */
    static Opened open(final Path file, final ChunkManifest manifest) throws IOException {
        int count = manifest.chunkCount();
        boolean existed = Files.exists(file);
        AtomicBitmap present;
        String problem;
        try (FileChannel ch = FileChannel.open(PrivateFiles.createFile(file), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            problem = existed ? validate(ch, manifest) : "new cache";
            if (problem == null) {
                present = BitmapFile.readBits(ch, count);
            } else {
                BitmapFile.writeEmpty(ch, header(manifest), count);
                present = new AtomicBitmap(count);
            }
        }
        return new Opened(new PresenceBitmap(BitmapFile.openForUpdate(file), count, present), problem != null, problem);
    }

    /**
     * Counts the chunks a bitmap file marks present without opening it for writing; 0 when the
     * file is missing or does not belong to {@code manifest}.
     */
    static int countPresent(final Path file, final ChunkManifest manifest) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (validate(ch, manifest) != null) {
                return 0;
            }
            return BitmapFile.readBits(ch, manifest.chunkCount()).cardinality();
        }
    }

    private static String validate(final FileChannel ch, final ChunkManifest manifest) throws IOException {
        long expectedLength = BitmapFile.length(manifest.chunkCount());
        if (ch.size() != expectedLength) {
            return "bitmap length " + ch.size() + " != " + expectedLength;
        }
        ByteBuffer header = BitmapFile.readHeader(ch);
        if (header.getInt(OFFSET_MAGIC) != MAGIC) {
            return "bad bitmap magic";
        }
        if (Short.toUnsignedInt(header.getShort(OFFSET_VERSION)) != VERSION) {
            return "unsupported bitmap version " + Short.toUnsignedInt(header.getShort(OFFSET_VERSION));
        }
        if (header.getLong(OFFSET_CHUNK_COUNT) != manifest.chunkCount()) {
            return "bitmap chunk count " + header.getLong(OFFSET_CHUNK_COUNT) + " != " + manifest.chunkCount();
        }
        byte[] id = Arrays.copyOfRange(header.array(), OFFSET_IMAGE_ID, OFFSET_IMAGE_ID + ChunkManifest.HASH_LENGTH);
        if (!MessageDigest.isEqual(id, manifest.imageId())) {
            return "bitmap belongs to another image";
        }
        return null;
    }

    private static ByteBuffer header(final ChunkManifest manifest) {
        ByteBuffer header = BitmapFile.newHeader();
        header.putInt(OFFSET_MAGIC, MAGIC);
        header.putShort(OFFSET_VERSION, (short) VERSION);
        header.putLong(OFFSET_CHUNK_COUNT, manifest.chunkCount());
        header.put(OFFSET_IMAGE_ID, manifest.imageId());
        return header;
    }

    int chunkCount() {
        return chunkCount;
    }

    boolean isSet(final int index) {
        return present.get(index);
    }

    /** Number of bits set. */
    int presentCount() {
        return present.cardinality();
    }

    /** Sets the in-memory bit; the caller must have made the chunk's data durable first. */
    void set(final int index) {
        present.set(index);
    }

    /** Clears the bit in memory and on disk (forced), before the chunk's data is rewritten. */
    void clearDurably(final int index) throws IOException {
        present.clear(index);
        persist(new int[] {index}, 1);
        force();
    }

    /** Writes the words holding the first {@code n} chunks of {@code indices} to the file (no force). */
    void persist(final int[] indices, final int n) throws IOException {
        file.writeWords(present, indices, n);
    }

    /** Makes every persisted word durable. */
    void force() throws IOException {
        file.force();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
