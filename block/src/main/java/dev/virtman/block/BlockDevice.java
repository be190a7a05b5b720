package dev.virtman.block;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A byte-addressed block device: the one capability interface every layer of VirtMan's data path
 * implements (source file, iSCSI initiator to a parent, verifying filter, chunk cache,
 * copy-on-write overlay). Modelled on nbdkit's plugin/filter interface: a filter wraps the next
 * layer and implements this same interface.
 *
 * <p>Offsets and lengths are in bytes. Callers (the SCSI layer) only issue requests aligned to
 * {@link #logicalBlockSize()} and inside {@link #size()}; implementations may rely on that but
 * must still reject out-of-range requests with {@link IllegalArgumentException}.
 */
public interface BlockDevice extends Closeable {

    /** Size of the device in bytes; a multiple of {@link #logicalBlockSize()}. */
    long size();

    /** Logical block size in bytes (512 unless the device says otherwise). */
    default int logicalBlockSize() {
        return 512;
    }

    /**
     * Reads exactly {@code dst.remaining()} bytes starting at {@code offset} into {@code dst},
     * advancing its position to its limit. Blocks until the data is available (a cache miss may
     * wait for an upstream fetch).
     */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Whether a {@link #read} of this range would return without waiting for anything but a local
     * file (no network fetch, no lock held by a slow operation). A target may then serve it on the
     * connection's reader thread. False when unsure: the default; filters forward it only when
     * they add no waiting of their own.
     */
    default boolean readsWithoutWaiting(final long offset, final int length) {
        return false;
    }

    /** Whether {@link #write} is allowed. */
    default boolean isWritable() {
        return false;
    }

    /** Writes all of {@code src} at {@code offset}. Read-only devices throw {@link ReadOnlyDeviceException}. */
    default void write(long offset, ByteBuffer src) throws IOException {
        throw new ReadOnlyDeviceException();
    }

    /** Makes every completed write durable. */
    default void flush() throws IOException {
    }

    @Override
    default void close() throws IOException {
    }
}
