package dev.virtman.block.overlay;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.BlockDevice;
import dev.virtman.block.ReopeningFileChannel;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The copy-on-write filter: a writable {@link BlockDevice} over a read-only base (an image's
 * shared lazy {@code ChunkCache}), one per volume. Like nbdkit's cow filter, but persistent.
 *
 * <p><b>What it stores.</b> A volume directory holds {@code data}, a sparse file as large as the
 * volume (grain i at byte i x grain size), and {@code written} ({@link OverlayBitmap}: which
 * grains {@code data} holds). Unwritten grains are read from the base (zeros past the base's end);
 * the base is shared by every volume of the image and never written, so N volumes cost one copy
 * of the image plus what each guest wrote.
 *
 * <p><b>Writes.</b> A write to a written grain goes to {@code data} in place. The first write to
 * a grain copies it up: the grain's base data, with the write merged in, goes to {@code data}
 * as a whole, and only then is the grain marked written, so a reader never sees a half-filled
 * grain. Writes to the same grain are serialised by a striped lock; reads take no lock.
 *
 * <p><b>What is durable when.</b> The device behaves as a disk with a volatile write cache
 * (SBC-3 §4.15): {@link #flush} (SYNCHRONIZE CACHE, or a write with FUA) forces {@code data}
 * (fdatasync) first and only then writes and forces the bits of the grains copied up since the
 * last flush. A crash therefore never leaves a bit pointing at lost data; it can only lose
 * writes that were never flushed, as a real disk may.
 */
public final class CopyOnWriteOverlay implements BlockDevice {
    static final String DATA_FILE = "data";
    static final String BITMAP_FILE = "written";
    private static final int LOCK_STRIPES = 256;

    private final Path directory;
    private final OverlayGeometry geometry;
    private final BlockDevice base;
    private final long baseSize;
    private final ReopeningFileChannel data;
    private final OverlayBitmap bitmap;
    private final ReentrantLock[] grainLocks = new ReentrantLock[LOCK_STRIPES];
    /** Grains copied up since the last flush: their bits are not durable yet. */
    private final Set<Integer> copiedUp = ConcurrentHashMap.newKeySet();
    /** One flush at a time, so a second SYNCHRONIZE CACHE waits for the first's bits, not past them. */
    private final ReentrantLock flushLock = new ReentrantLock();
    private volatile boolean closed;

    private CopyOnWriteOverlay(final Path directory, final OverlayGeometry geometry, final BlockDevice base,
                               final ReopeningFileChannel data, final OverlayBitmap bitmap) {
        this.directory = directory;
        this.geometry = geometry;
        this.base = base;
        this.baseSize = base.size();
        this.data = data;
        this.bitmap = bitmap;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            grainLocks[i] = new ReentrantLock();
        }
    }

    /** Creates a new, unwritten volume in {@code directory} (which must not hold one) over {@code base}. */
    public static CopyOnWriteOverlay create(final Path directory, final OverlayGeometry geometry,
                                            final BlockDevice base) throws IOException {
        checkBase(geometry, base);
        PrivateFiles.createDirectories(directory);
        Path dataFile = directory.resolve(DATA_FILE);
        // The bitmap is created last: a directory without it is an unfinished create, retried here.
        try (RandomAccessFile f = new RandomAccessFile(PrivateFiles.createFile(dataFile).toFile(), "rw")) {
            f.setLength(0);
            f.setLength(geometry.volumeSize());
        }
        OverlayBitmap bitmap = OverlayBitmap.create(directory.resolve(BITMAP_FILE), geometry);
        return new CopyOnWriteOverlay(directory, geometry, base, new ReopeningFileChannel(dataFile, true), bitmap);
    }

    /** Reopens a volume created earlier (after an agent restart); what was flushed is there. */
    public static CopyOnWriteOverlay open(final Path directory, final OverlayGeometry geometry,
                                          final BlockDevice base) throws IOException {
        checkBase(geometry, base);
        Path dataFile = directory.resolve(DATA_FILE);
        if (!Files.exists(dataFile) || Files.size(dataFile) != geometry.volumeSize()) {
            throw new OverlayFormatException(dataFile + ": missing or not " + geometry.volumeSize() + " bytes");
        }
        OverlayBitmap bitmap = OverlayBitmap.open(directory.resolve(BITMAP_FILE), geometry);
        try {
            return new CopyOnWriteOverlay(directory, geometry, base, new ReopeningFileChannel(dataFile, true), bitmap);
        } catch (IOException | RuntimeException e) {
            bitmap.close();
            throw e;
        }
    }

    /** Whether {@code directory} holds a volume (a finished create). */
    public static boolean exists(final Path directory) {
        return Files.exists(directory.resolve(BITMAP_FILE));
    }

    /** Removes a closed volume's files and its directory; a missing volume is not an error. */
    public static void delete(final Path directory) throws IOException {
        // Bitmap first: a crash half-way leaves an unfinished volume, never one with lost data.
        Files.deleteIfExists(directory.resolve(BITMAP_FILE));
        Files.deleteIfExists(directory.resolve(DATA_FILE));
        try {
            Files.deleteIfExists(directory);
        } catch (NoSuchFileException e) {
            // gone already
        }
    }

    private static void checkBase(final OverlayGeometry geometry, final BlockDevice base) {
        if (base.size() > geometry.volumeSize()) {
            throw new IllegalArgumentException("volume of " + geometry.volumeSize()
                    + " bytes is smaller than its base (" + base.size() + " bytes)");
        }
    }

    @Override
    public long size() {
        return geometry.volumeSize();
    }

    @Override
    public boolean isWritable() {
        return true;
    }

    public Path directory() {
        return directory;
    }

    public OverlayGeometry geometry() {
        return geometry;
    }

    /** Grains this volume holds itself (written at least once). */
    public int writtenGrains() {
        return bitmap.writtenCount();
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        long end = offset + dst.remaining();
        long pos = offset;
        int grainSize = geometry.grainSize();
        while (pos < end) {
            // One run of grains in the same state becomes one read.
            boolean written = bitmap.isWritten((int) (pos / grainSize));
            long runEnd = Math.min(end, (pos / grainSize + 1) * grainSize);
            while (runEnd < end && bitmap.isWritten((int) (runEnd / grainSize)) == written) {
                runEnd = Math.min(end, runEnd + grainSize);
            }
            int length = (int) (runEnd - pos);
            ByteBuffer part = dst.slice(dst.position(), length);
            if (written) {
                data.readFully(part, pos);
            } else {
                readBase(pos, part);
            }
            dst.position(dst.position() + length);
            pos += length;
        }
    }

    /** Reads base data, zeros past the base's end (a volume larger than its image). */
    private void readBase(final long pos, final ByteBuffer dst) throws IOException {
        int fromBase = (int) Math.max(0, Math.min(dst.remaining(), baseSize - pos));
        if (fromBase > 0) {
            ByteBuffer part = dst.slice(dst.position(), fromBase);
            base.read(pos, part);
            dst.position(dst.position() + fromBase);
        }
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }

    @Override
    public void write(final long offset, final ByteBuffer src) throws IOException {
        checkRange(offset, src.remaining());
        long pos = offset;
        int grainSize = geometry.grainSize();
        while (src.hasRemaining()) {
            int grain = (int) (pos / grainSize);
            long grainStart = (long) grain * grainSize;
            int inGrain = (int) (pos - grainStart);
            int length = Math.min(src.remaining(), grainSize - inGrain);
            ByteBuffer part = src.slice(src.position(), length);
            ReentrantLock lock = grainLocks[grain % LOCK_STRIPES];
            lock.lock();
            try {
                if (bitmap.isWritten(grain)) {
                    data.writeFully(part, pos);
                } else {
                    copyUp(grain, grainStart, inGrain, part);
                }
            } finally {
                lock.unlock();
            }
            src.position(src.position() + length);
            pos += length;
        }
    }

    /** First write to {@code grain}: base data with the write merged in, then the bit (in memory). */
    private void copyUp(final int grain, final long grainStart, final int inGrain, final ByteBuffer part)
            throws IOException {
        int grainLength = (int) Math.min(geometry.grainSize(), geometry.volumeSize() - grainStart);
        ByteBuffer whole = ByteBuffer.allocate(grainLength);
        if (part.remaining() < grainLength) {
            readBase(grainStart, whole);
            whole.clear();
        }
        whole.put(inGrain, part, part.position(), part.remaining());
        data.writeFully(whole, grainStart);
        bitmap.markWritten(grain);
        copiedUp.add(grain);
    }

    /** Forces the data, then makes the bits of grains copied up since the last flush durable. */
    @Override
    public void flush() throws IOException {
        flushLock.lock();
        try {
            int[] grains = new int[copiedUp.size()];
            int n = 0;
            for (Integer g : copiedUp) {
                if (n == grains.length) {
                    break; // copied up after the snapshot's size was taken: the next flush has it
                }
                copiedUp.remove(g);
                grains[n++] = g;
            }
            data.force();
            bitmap.persist(grains, n);
        } finally {
            flushLock.unlock();
        }
    }

    private void checkRange(final long offset, final int length) {
        if (offset < 0 || length < 0 || offset + length > geometry.volumeSize()) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside volume of "
                    + geometry.volumeSize() + " bytes");
        }
        if (closed) {
            throw new IllegalStateException("volume " + directory + " is closed");
        }
    }

    /** Flushes and closes the volume's files; the base stays open (other volumes share it). */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            flush();
        } finally {
            closed = true;
            try {
                data.close();
            } finally {
                bitmap.close();
            }
        }
    }
}
