package dev.virtman.block.overlay;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.AtomicBitmap;
import dev.virtman.block.BitmapFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;

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
 * <p>The bit words and their updates are {@link BitmapFile}'s; this class owns the header.
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

    private final BitmapFile file;
    private final int grainCount;
    /** What readers follow: grains whose data is in the data file. */
    private final AtomicBitmap written;
    /** What the file says: grains whose data was forced before their bit was written. */
    private final AtomicBitmap durable;

    private OverlayBitmap(final BitmapFile file, final int grainCount, final AtomicBitmap bits) {
        this.file = file;
        this.grainCount = grainCount;
        this.written = bits;
        this.durable = bits.copy();
    }

    /** Creates an empty bitmap file; fails if one exists (a volume is created once). */
    static OverlayBitmap create(final Path file, final OverlayGeometry geometry) throws IOException {
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PrivateFiles.ownerOnly())) {
            ByteBuffer header = BitmapFile.newHeader();
            header.putInt(OFFSET_MAGIC, MAGIC);
            header.putShort(OFFSET_VERSION, (short) VERSION);
            header.putInt(OFFSET_GRAIN_SIZE, geometry.grainSize());
            header.putLong(OFFSET_VOLUME_SIZE, geometry.volumeSize());
            header.putLong(OFFSET_GRAIN_COUNT, geometry.grainCount());
            header.put(OFFSET_BASE_ID, geometry.baseId());
            BitmapFile.writeEmpty(ch, header, geometry.grainCount());
        }
        return open(file, geometry);
    }

    /**
     * Opens an existing bitmap; refuses one that belongs to another geometry or base, since its
     * bits would send reads to the wrong data.
     */
    static OverlayBitmap open(final Path file, final OverlayGeometry geometry) throws IOException {
        long length = BitmapFile.length(geometry.grainCount());
        AtomicBitmap bits;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != length) {
                throw new OverlayFormatException(file + ": length " + ch.size() + ", expected " + length);
            }
            ByteBuffer header = BitmapFile.readHeader(ch);
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
            // Bits past the last grain would name grains that do not exist: readBits clears them.
            bits = BitmapFile.readBits(ch, geometry.grainCount());
        }
        return new OverlayBitmap(BitmapFile.openForUpdate(file), geometry.grainCount(), bits);
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
        return written.get(grain);
    }

    boolean isDurable(final int grain) {
        return durable.get(grain);
    }

    int writtenCount() {
        return written.cardinality();
    }

    /** Marks {@code grain} written in memory; its data must already be in the data file. */
    void markWritten(final int grain) {
        written.set(grain);
    }

    /**
     * Makes the bits of {@code grains} durable: the caller forced their data first. Only these
     * bits go to disk, never a bit another thread set in memory after that force.
     */
    void persist(final int[] grains, final int n) throws IOException {
        if (n == 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            durable.set(grains[i]);
        }
        file.writeWordsAndForce(durable, grains, n);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
