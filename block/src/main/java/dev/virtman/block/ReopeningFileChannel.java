package dev.virtman.block;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file shared by every reader of an image (a source image, a cache's data file), that
 * survives a reader being interrupted.
 *
 * <p>A {@link FileChannel} is interruptible: interrupting any thread blocked in it closes the
 * channel for all threads (JDK {@code AbstractInterruptibleChannel}). An iSCSI session torn down
 * mid-read must not break the cache for every other session, so this wrapper reopens the file
 * when it finds the channel closed by someone else's interrupt and retries; the interrupted
 * thread itself gets an {@link InterruptedIOException}. Positional I/O only, so a reopen loses
 * no state. Only {@link #close()} closes it for good.
 */
public final class ReopeningFileChannel implements Closeable {
    /** Reopen-and-retry rounds before giving up (each needs another thread's interrupt to fail). */
    private static final int MAX_REOPENS = 8;

    private final Path file;
    private final boolean writable;
    private volatile FileChannel channel;
    private volatile boolean closed;

    /** Opens {@code file} for reading, and for writing too when {@code writable}. */
    public ReopeningFileChannel(final Path file, final boolean writable) throws IOException {
        this.file = file;
        this.writable = writable;
        this.channel = open();
    }

    private FileChannel open() throws IOException {
        return writable ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ);
    }

    @FunctionalInterface
    private interface Op<T> {
        T apply(FileChannel ch) throws IOException;
    }

    private <T> T run(final Op<T> op) throws IOException {
        for (int attempt = 0; ; attempt++) {
            FileChannel ch = channel;
            try {
                return op.apply(ch);
            } catch (ClosedByInterruptException e) {
                reopen(ch);
                throw new InterruptedIOException("interrupted during I/O on " + file);
            } catch (ClosedChannelException e) {
                if (closed || attempt >= MAX_REOPENS) {
                    throw e;
                }
                reopen(ch);
            }
        }
    }

    private synchronized void reopen(final FileChannel broken) throws IOException {
        if (!closed && channel == broken) {
            channel = open();
        }
    }

    /** Reads exactly {@code dst.remaining()} bytes at {@code position}. */
    public void readFully(final ByteBuffer dst, final long position) throws IOException {
        int start = dst.position();
        run(ch -> {
            // A retry after a reopen starts the whole read again.
            dst.position(start);
            long pos = position;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, pos);
                if (n < 0) {
                    throw new EOFException(file + ": unexpected end of file at " + pos);
                }
                pos += n;
            }
            return null;
        });
    }

    /** Writes all of {@code src} at {@code position}. */
    public void writeFully(final ByteBuffer src, final long position) throws IOException {
        int start = src.position();
        run(ch -> {
            src.position(start);
            long pos = position;
            while (src.hasRemaining()) {
                pos += ch.write(src, pos);
            }
            return null;
        });
    }

    /** fdatasync ({@code force(false)}): the data, and the metadata needed to read it back. */
    public void force() throws IOException {
        run(ch -> {
            ch.force(false);
            return null;
        });
    }

    public long size() throws IOException {
        return run(FileChannel::size);
    }

    public void truncate(final long size) throws IOException {
        run(ch -> ch.truncate(size));
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        channel.close();
    }
}
