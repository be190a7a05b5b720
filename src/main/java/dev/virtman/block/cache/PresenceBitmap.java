package dev.virtman.block.cache;

import dev.virtman.block.ReopeningFileChannel;
import dev.virtman.block.manifest.ChunkManifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

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
    static final int HEADER_LENGTH = 64;

    private final ReopeningFileChannel channel;
    private final int chunkCount;
    private final AtomicLongArray words;
    private final AtomicInteger present = new AtomicInteger();
    /** Serialises file writes so a word on disk is never overwritten by an older value. */
    private final Object fileLock = new Object();

    private PresenceBitmap(final ReopeningFileChannel channel, final int chunkCount, final AtomicLongArray words) {
        this.channel = channel;
        this.chunkCount = chunkCount;
        this.words = words;
        int count = 0;
        for (int w = 0; w < words.length(); w++) {
            count += Long.bitCount(words.get(w));
        }
        present.set(count);
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
        int wordCount = (count + Long.SIZE - 1) / Long.SIZE;
        long expectedLength = HEADER_LENGTH + (long) wordCount * Long.BYTES;
        boolean existed = Files.exists(file);
        AtomicLongArray words = new AtomicLongArray(wordCount);
        String problem;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            problem = existed ? validate(ch, manifest, expectedLength) : "new cache";
            if (problem == null) {
                ByteBuffer bits = ByteBuffer.allocate(wordCount * Long.BYTES).order(ByteOrder.BIG_ENDIAN);
                readFully(ch, bits, HEADER_LENGTH);
                bits.flip();
                for (int w = 0; w < wordCount; w++) {
                    words.set(w, bits.getLong());
                }
                // Bits past the last chunk would count as present chunks that do not exist.
                int tail = count % Long.SIZE;
                if (tail != 0) {
                    words.set(wordCount - 1, words.get(wordCount - 1) & ((1L << tail) - 1));
                }
            } else {
                writeEmpty(ch, manifest, expectedLength);
            }
        }
        return new Opened(new PresenceBitmap(new ReopeningFileChannel(file, true), count, words), problem != null, problem);
    }

    /**
     * Counts the chunks a bitmap file marks present without opening it for writing; 0 when the
     * file is missing or does not belong to {@code manifest}.
     */
    static int countPresent(final Path file, final ChunkManifest manifest) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        int count = manifest.chunkCount();
        int wordCount = (count + Long.SIZE - 1) / Long.SIZE;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (validate(ch, manifest, HEADER_LENGTH + (long) wordCount * Long.BYTES) != null) {
                return 0;
            }
            ByteBuffer bits = ByteBuffer.allocate(wordCount * Long.BYTES).order(ByteOrder.BIG_ENDIAN);
            readFully(ch, bits, HEADER_LENGTH);
            bits.flip();
            int present = 0;
            for (int w = 0; w < wordCount; w++) {
                long word = bits.getLong();
                if (w == wordCount - 1 && count % Long.SIZE != 0) {
                    word &= (1L << (count % Long.SIZE)) - 1;
                }
                present += Long.bitCount(word);
            }
            return present;
        }
    }

    private static String validate(final FileChannel ch, final ChunkManifest manifest, final long expectedLength)
            throws IOException {
        if (ch.size() != expectedLength) {
            return "bitmap length " + ch.size() + " != " + expectedLength;
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
        readFully(ch, header, 0);
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

    private static void writeEmpty(final FileChannel ch, final ChunkManifest manifest, final long length)
            throws IOException {
        ch.truncate(0);
        ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
        header.putInt(OFFSET_MAGIC, MAGIC);
        header.putShort(OFFSET_VERSION, (short) VERSION);
        header.putLong(OFFSET_CHUNK_COUNT, manifest.chunkCount());
        header.put(OFFSET_IMAGE_ID, manifest.imageId());
        writeFully(ch, header, 0);
        // The bit words are zero: extending the file leaves a hole that reads as zeros.
        ch.write(ByteBuffer.allocate(1), length - 1);
        ch.force(true);
    }

    int chunkCount() {
        return chunkCount;
    }

    boolean isSet(final int index) {
        return (words.get(index >>> 6) & (1L << index)) != 0;
    }

    /** Number of bits set. */
    int presentCount() {
        return present.get();
    }

    /** Sets the in-memory bit; the caller must have made the chunk's data durable first. */
    void set(final int index) {
        long mask = 1L << index;
        long old = words.getAndUpdate(index >>> 6, w -> w | mask);
        if ((old & mask) == 0) {
            present.incrementAndGet();
        }
    }

    /** Clears the bit in memory and on disk (forced), before the chunk's data is rewritten. */
    void clearDurably(final int index) throws IOException {
        long mask = 1L << index;
        long old = words.getAndUpdate(index >>> 6, w -> w & ~mask);
        if ((old & mask) != 0) {
            present.decrementAndGet();
        }
        persist(new int[] {index}, 1);
        force();
    }

    /** Writes the words holding the first {@code n} chunks of {@code indices} to the file (no force). */
    void persist(final int[] indices, final int n) throws IOException {
        int[] wordIndices = new int[n];
        for (int i = 0; i < n; i++) {
            wordIndices[i] = indices[i] >>> 6;
        }
        Arrays.sort(wordIndices);
        ByteBuffer buf = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.BIG_ENDIAN);
        synchronized (fileLock) {
            int last = -1;
            for (int i = 0; i < n; i++) {
                int w = wordIndices[i];
                if (w == last) {
                    continue;
                }
                last = w;
                // Read the word under the lock: whatever is written is at least as new as any
                // earlier write of the same word.
                buf.clear();
                buf.putLong(0, words.get(w));
                channel.writeFully(buf, HEADER_LENGTH + (long) w * Long.BYTES);
            }
        }
    }

    /** Makes every persisted word durable. */
    void force() throws IOException {
        channel.force();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static void readFully(final FileChannel ch, final ByteBuffer dst, final long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new IOException("bitmap file shrank at " + pos);
            }
            pos += n;
        }
    }

    private static void writeFully(final FileChannel ch, final ByteBuffer src, final long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += ch.write(src, pos);
        }
    }
}
