package dev.virtman.block;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image file as a block device: the bottom of the source's stack. Positional reads and
 * writes on one {@link FileChannel} are thread-safe, so concurrent commands need no lock.
 */
public final class FileBlockDevice implements BlockDevice {
    private final Path path;
    private final FileChannel channel;
    private final boolean writable;
    private final long size;

    private FileBlockDevice(Path path, FileChannel channel, boolean writable, long size) {
        this.path = path;
        this.channel = channel;
        this.writable = writable;
        this.size = size;
    }

    /** Opens {@code path}; its size must be a multiple of 512 bytes. */
    public static FileBlockDevice open(final Path path, final boolean writable) throws IOException {
        FileChannel channel = writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ);
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

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new EOFException(path + ": unexpected end of file at " + pos);
            }
            pos += n;
        }
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
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void flush() throws IOException {
        if (writable) {
            channel.force(false);
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
