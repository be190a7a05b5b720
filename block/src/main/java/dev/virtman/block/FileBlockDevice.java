package dev.virtman.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A raw image file as a block device: the bottom of the source's stack. Positional reads and
 * writes on one {@link java.nio.channels.FileChannel} are thread-safe, so concurrent commands need
 * no lock; the channel is a {@link ReopeningFileChannel}, so a session thread interrupted mid-read
 * does not close the image for every other session.
 */
public final class FileBlockDevice implements BlockDevice {
    private final Path path;
    private final ReopeningFileChannel channel;
    private final boolean writable;
    private final long size;

    private FileBlockDevice(Path path, ReopeningFileChannel channel, boolean writable, long size) {
        this.path = path;
        this.channel = channel;
        this.writable = writable;
        this.size = size;
    }

    /** Opens {@code path}; its size must be a multiple of 512 bytes. */
    public static FileBlockDevice open(final Path path, final boolean writable) throws IOException {
        ReopeningFileChannel channel = new ReopeningFileChannel(path, writable);
        long size = channel.size();
        if (size % 512 != 0) {
            channel.close();
            throw new IOException(path + ": size " + size + " is not a multiple of 512 bytes");
        }
        return new FileBlockDevice(path, channel, writable, size);
    }

    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    /** A local file: a positional read (the page cache, or the disk at worst). */
    @Override
    public boolean readsWithoutWaiting(final long offset, final int length) {
        return true;
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        channel.readFully(dst, offset);
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void write(final long offset, final ByteBuffer src) throws IOException {
        if (!writable) {
            throw new ReadOnlyDeviceException();
        }
        checkRange(offset, src.remaining());
        channel.writeFully(src, offset);
    }

    @Override
    public void flush() throws IOException {
        if (writable) {
            channel.force();
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void checkRange(final long offset, final int length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException(
                    "range " + offset + "+" + length + " outside device of " + size + " bytes");
        }
    }
}
