package dev.virtman.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The layout every bitmap file of the block layer shares (a cache's presence bitmap, a volume's
 * written-grains bitmap): a 64-byte header whose fields each format defines and checks itself,
 * then one bit per unit (chunk, grain) in 64-bit big-endian words. Only the header differs between
 * formats; this class owns everything after it.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Header (64 bytes, big-endian): magic, version, geometry   |  0
 * |                     as the format defines                     |
 * +---------------------------------------------------------------+
 * |  Bit words: word w (64 bits, big-endian) holds units 64w ..   | 64
 * |  64w+63, unit i is bit (i mod 64), least significant first    |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <p>An open file is updated word by word ({@link #writeWords}): a unit's bit reaches the disk by
 * rewriting the whole word from memory, under one lock, so a word on disk is never overwritten by
 * an older value of itself. What a bit on disk promises is the format's business.
 */
public final class BitmapFile implements AutoCloseable {
    public static final int HEADER_LENGTH = 64;

    private final ReopeningFileChannel channel;
    /** Serialises word writes (see the class comment). */
    private final Object writeLock = new Object();

    private BitmapFile(final ReopeningFileChannel channel) {
        this.channel = channel;
    }

    /** Opens an existing bitmap file for word updates; its header has been checked by the caller. */
    public static BitmapFile openForUpdate(final Path file) throws IOException {
        return new BitmapFile(new ReopeningFileChannel(file, true));
    }

    /** Words needed for {@code bits} bits. */
    public static int wordCount(final int bits) {
        return (bits + Long.SIZE - 1) / Long.SIZE;
    }

    /** The length of a bitmap file of {@code bits} bits. */
    public static long length(final int bits) {
        return HEADER_LENGTH + (long) wordCount(bits) * Long.BYTES;
    }

    /**
     * Makes {@code ch} a bitmap file of {@code bits} clear bits under {@code header} (forced),
     * replacing whatever it held.
     */
    public static void writeEmpty(final FileChannel ch, final ByteBuffer header, final int bits) throws IOException {
        if (header.capacity() != HEADER_LENGTH) {
            throw new IllegalArgumentException("bitmap header must be " + HEADER_LENGTH + " bytes");
        }
        ch.truncate(0);
        writeFully(ch, header.duplicate().clear(), 0);
        // The bit words are zero: extending the file leaves a hole that reads as zeros.
        ch.write(ByteBuffer.allocate(1), length(bits) - 1);
        ch.force(true);
    }

    /** A fresh header buffer for a format to fill in (big-endian, zeros). */
    public static ByteBuffer newHeader() {
        return ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
    }

    /** Reads the header of a file the caller has checked to be at least {@link #HEADER_LENGTH} long. */
    public static ByteBuffer readHeader(final FileChannel ch) throws IOException {
        ByteBuffer header = newHeader();
        readFully(ch, header, 0);
        return header;
    }

    /**
     * Reads the {@code bits} bits of a file the caller has checked to be {@link #length(int)} long.
     * Bits past the last unit are cleared: they would count units that do not exist.
     */
    public static AtomicBitmap readBits(final FileChannel ch, final int bits) throws IOException {
        int count = wordCount(bits);
        ByteBuffer buf = ByteBuffer.allocate(count * Long.BYTES).order(ByteOrder.BIG_ENDIAN);
        readFully(ch, buf, HEADER_LENGTH);
        buf.flip();
        long[] words = new long[count];
        for (int w = 0; w < count; w++) {
            words[w] = buf.getLong();
        }
        int tail = bits % Long.SIZE;
        if (tail != 0) {
            words[count - 1] &= (1L << tail) - 1;
        }
        return AtomicBitmap.ofWords(words);
    }

    /**
     * Writes the words of {@code bits} that hold the first {@code n} units of {@code units}, each as
     * it is in memory at the time of writing (no force).
     */
    public void writeWords(final AtomicBitmap bits, final int[] units, final int n) throws IOException {
        write(bits, units, n, false);
    }

    /** {@link #writeWords}, then a force before another writer may start. */
    public void writeWordsAndForce(final AtomicBitmap bits, final int[] units, final int n) throws IOException {
        write(bits, units, n, true);
    }

    private void write(final AtomicBitmap bits, final int[] units, final int n, final boolean force)
            throws IOException {
        int[] wordIndices = new int[n];
        for (int i = 0; i < n; i++) {
            wordIndices[i] = AtomicBitmap.wordOf(units[i]);
        }
        Arrays.sort(wordIndices);
        ByteBuffer buf = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.BIG_ENDIAN);
        synchronized (writeLock) {
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
                buf.putLong(0, bits.word(w));
                channel.writeFully(buf, HEADER_LENGTH + (long) w * Long.BYTES);
            }
            if (force) {
                channel.force();
            }
        }
    }

    /** Makes every word written so far durable (fdatasync). */
    public void force() throws IOException {
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
