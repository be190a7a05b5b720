package dev.virtman.block.overlay;

import dev.virtman.block.ReopeningFileChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which grains of a copy-on-write volume live in its own data file ("written"), one bit per grain.
 *
 * <p>Two views of every bit: {@link #isWritten} is the in-memory bit readers follow, set as soon
 * as the grain's data is in the data file (page cache); the <em>durable</em> bit is what the file
 * says, and it is only set by {@link #persist} for grains whose data the caller has already forced
 * (fdatasync). A bit on disk therefore never points at data a crash could lose; a grain written
 * since the last flush may fall back to the base after a crash, which is what a volatile write
 * cache (SBC-3 §4.15, WCE=1) promises and no more.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Magic "VMOV" (0x564D4F56)                 |  0
 * +-------------------------------+-------------------------------+
 * |          Version (1)          |        Reserved (zero)        |  4
 * +-------------------------------+-------------------------------+
 * |                      Grain size in bytes                      |  8
 * +---------------------------------------------------------------+
 * |                       Reserved (zero)                         | 12
 * +---------------------------------------------------------------+
 * |                    Volume size in bytes (64)                  | 16
 * +---------------------------------------------------------------+
 * |                      Grain count (64)                         | 24
 * +---------------------------------------------------------------+
 * |          Base id (32: the image id the volume was made from)  | 32
 * +---------------------------------------------------------------+
 * |  Bit words: word w (64 bits, big-endian) holds grains 64w ..  | 64
 * |  64w+63, grain i is bit (i mod 64), least significant first   |
 * +---------------------------------------------------------------+
 * </pre>
 */
final class OverlayBitmap implements AutoCloseable {
    static final int MAGIC = 0x564D4F56;
    static final int VERSION = 1;
    static final int OFFSET_MAGIC = 0;
    static final int OFFSET_VERSION = 4;
    static final int OFFSET_GRAIN_SIZE = 8;
    static final int OFFSET_VOLUME_SIZE = 16;
    static final int OFFSET_GRAIN_COUNT = 24;
    static final int OFFSET_BASE_ID = 32;
    static final int BASE_ID_LENGTH = 32;
    static final int HEADER_LENGTH = 64;

    private final ReopeningFileChannel channel;
    private final int grainCount;
    /** What readers follow: grains whose data is in the data file. */
    private final AtomicLongArray written;
    /** What the file says: grains whose data was forced before their bit was written. */
    private final AtomicLongArray durable;
    private final AtomicInteger writtenCount = new AtomicInteger();
    /** Serialises {@link #persist} so a word on disk is never overwritten by an older value. */
    private final Object fileLock = new Object();

    private OverlayBitmap(final ReopeningFileChannel channel, final int grainCount, final AtomicLongArray bits) {
        this.channel = channel;
        this.grainCount = grainCount;
        this.written = bits;
        this.durable = new AtomicLongArray(bits.length());
        int count = 0;
        for (int w = 0; w < bits.length(); w++) {
            durable.set(w, bits.get(w));
            count += Long.bitCount(bits.get(w));
        }
        writtenCount.set(count);
    }

    static int wordCount(final int grainCount) {
        return (grainCount + Long.SIZE - 1) / Long.SIZE;
    }

    /** Creates an empty bitmap file; fails if one exists (a volume is created once). */
    static OverlayBitmap create(final Path file, final OverlayGeometry geometry) throws IOException {
        int words = wordCount(geometry.grainCount());
        long length = HEADER_LENGTH + (long) words * Long.BYTES;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
            header.putInt(OFFSET_MAGIC, MAGIC);
            header.putShort(OFFSET_VERSION, (short) VERSION);
            header.putInt(OFFSET_GRAIN_SIZE, geometry.grainSize());
            header.putLong(OFFSET_VOLUME_SIZE, geometry.volumeSize());
            header.putLong(OFFSET_GRAIN_COUNT, geometry.grainCount());
            header.put(OFFSET_BASE_ID, geometry.baseId());
            writeFully(ch, header, 0);
            // The bit words start at zero: extending the file leaves a hole that reads as zeros.
            ch.write(ByteBuffer.allocate(1), length - 1);
            ch.force(true);
        }
        return open(file, geometry);
    }

    /**
     * Opens an existing bitmap; refuses one that belongs to another geometry or base, since its
     * bits would send reads to the wrong data.
     */
    static OverlayBitmap open(final Path file, final OverlayGeometry geometry) throws IOException {
        int words = wordCount(geometry.grainCount());
        long length = HEADER_LENGTH + (long) words * Long.BYTES;
        AtomicLongArray bits = new AtomicLongArray(words);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != length) {
                throw new OverlayFormatException(file + ": length " + ch.size() + ", expected " + length);
            }
            ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
            readFully(ch, header, 0);
            check(file, header.getInt(OFFSET_MAGIC) == MAGIC, "bad magic");
            check(file, Short.toUnsignedInt(header.getShort(OFFSET_VERSION)) == VERSION, "unsupported version");
            check(file, header.getInt(OFFSET_GRAIN_SIZE) == geometry.grainSize(),
                    "grain size " + header.getInt(OFFSET_GRAIN_SIZE) + " != " + geometry.grainSize());
            check(file, header.getLong(OFFSET_VOLUME_SIZE) == geometry.volumeSize(),
                    "volume size " + header.getLong(OFFSET_VOLUME_SIZE) + " != " + geometry.volumeSize());
            check(file, header.getLong(OFFSET_GRAIN_COUNT) == geometry.grainCount(), "grain count differs");
            byte[] base = Arrays.copyOfRange(header.array(), OFFSET_BASE_ID, OFFSET_BASE_ID + BASE_ID_LENGTH);
            check(file, MessageDigest.isEqual(base, geometry.baseId()),
                    "made from base " + HexFormat.of().formatHex(base) + ", not this one");
            ByteBuffer buf = ByteBuffer.allocate(words * Long.BYTES).order(ByteOrder.BIG_ENDIAN);
            readFully(ch, buf, HEADER_LENGTH);
            buf.flip();
            for (int w = 0; w < words; w++) {
                bits.set(w, buf.getLong());
            }
            int tail = geometry.grainCount() % Long.SIZE;
            if (tail != 0) {
                // Bits past the last grain would name grains that do not exist.
                bits.set(words - 1, bits.get(words - 1) & ((1L << tail) - 1));
            }
        }
        return new OverlayBitmap(new ReopeningFileChannel(file, true), geometry.grainCount(), bits);
    }

    private static void check(final Path file, final boolean ok, final String problem) throws OverlayFormatException {
        if (!ok) {
            throw new OverlayFormatException(file + ": " + problem);
        }
    }

    int grainCount() {
        return grainCount;
    }

    boolean isWritten(final int grain) {
        return (written.get(grain >>> 6) & (1L << grain)) != 0;
    }

    boolean isDurable(final int grain) {
        return (durable.get(grain >>> 6) & (1L << grain)) != 0;
    }

    int writtenCount() {
        return writtenCount.get();
    }

    /** Marks {@code grain} written in memory; its data must already be in the data file. */
    void markWritten(final int grain) {
        long mask = 1L << grain;
        long old = written.getAndUpdate(grain >>> 6, w -> w | mask);
        if ((old & mask) == 0) {
            writtenCount.incrementAndGet();
        }
    }

    /**
     * Makes the bits of {@code grains} durable: the caller forced their data first. Only these
     * bits go to disk, never a bit another thread set in memory after that force.
     */
    void persist(final int[] grains, final int n) throws IOException {
        if (n == 0) {
            return;
        }
        int[] words = new int[n];
        for (int i = 0; i < n; i++) {
            int g = grains[i];
            long mask = 1L << g;
            durable.getAndUpdate(g >>> 6, w -> w | mask);
            words[i] = g >>> 6;
        }
        Arrays.sort(words);
        ByteBuffer buf = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.BIG_ENDIAN);
        synchronized (fileLock) {
            int last = -1;
            for (int i = 0; i < n; i++) {
                if (words[i] == last) {
                    continue;
                }
                last = words[i];
                buf.clear();
                buf.putLong(0, durable.get(last));
                channel.writeFully(buf, HEADER_LENGTH + (long) last * Long.BYTES);
            }
            channel.force();
        }
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
                throw new IOException("overlay bitmap shrank at " + pos);
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
