package dev.virtman.bench.storm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The image the emulated VMs compare their reads with, memory-mapped once and shared by every VM:
 * a compare is then a vectorised {@code mismatch} against the page cache, with no read syscall
 * and no copy per piece (before, each VM read the reference with {@code pread} into a buffer of
 * its own, 4 % of the tree storm's CPU samples). The VMs are the bench, not VirtMan: cheaper
 * VMs leave more of the machine to what is measured.
 *
 * <p>A {@link MappedByteBuffer} holds at most 2 GiB, so the image is mapped in windows of
 * {@link #WINDOW} bytes that overlap by {@link #MAX_PIECE}: a piece of up to that length always
 * lies inside the window where it starts.
 */
public final class ReferenceImage {
    static final long WINDOW = 1L << 30;
    static final int MAX_PIECE = 1 << 20;

    private final MappedByteBuffer[] windows;
    private final long size;

    private ReferenceImage(final MappedByteBuffer[] windows, final long size) {
        this.windows = windows;
        this.size = size;
    }

    /** Maps {@code image} read-only. */
    public static ReferenceImage map(final Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) Math.max(1, (size + WINDOW - 1) / WINDOW);
            MappedByteBuffer[] w = new MappedByteBuffer[n];
            for (int i = 0; i < n; i++) {
                long start = i * WINDOW;
                w[i] = ch.map(FileChannel.MapMode.READ_ONLY, start, Math.min(WINDOW + MAX_PIECE, size - start));
            }
            return new ReferenceImage(w, size);
        }
    }

    /** The image's bytes {@code [offset, offset + length)} as a read-only buffer (no copy); length ≤ {@link #MAX_PIECE}. */
    ByteBuffer slice(final long offset, final int length) throws IOException {
        if (length > MAX_PIECE || length < 0) {
            throw new IllegalArgumentException("piece of " + length + " bytes");
        }
        if (offset < 0 || offset + length > size) {
            throw new IOException("reference image ends at " + size + ", read at " + offset + "+" + length);
        }
        int w = (int) (offset / WINDOW);
        return windows[w].slice((int) (offset - w * WINDOW), length);
    }
}
