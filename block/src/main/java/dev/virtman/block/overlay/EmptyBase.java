package dev.virtman.block.overlay;

import dev.virtman.block.BlockDevice;

import java.nio.ByteBuffer;

/**
 * The base of a blank volume: a device of no bytes, so {@link CopyOnWriteOverlay} reads zeros
 * wherever the volume was not written.
 */
public final class EmptyBase implements BlockDevice {
    public static final EmptyBase INSTANCE = new EmptyBase();
    /** The base id blank volumes record: no image has an all-zero SHA-256. */
    private static final byte[] ID = new byte[32];

    private EmptyBase() {
    }

    public static byte[] id() {
        return ID.clone();
    }

    @Override
    public long size() {
        return 0;
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) {
        if (offset != 0 || dst.hasRemaining()) {
            throw new IllegalArgumentException("an empty base has no bytes to read");
        }
    }
}
