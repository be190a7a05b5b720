package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.ForwardingBlockDevice;
import dev.virtman.block.TokenBucket;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The filter between a volume's overlay and its SCSI disk: counts the bytes initiators read and
 * write in the volume's {@link VolumeMeters}, and draws reads from the agent's downstream bucket
 * (the {@code --downstream-cap} every image export shares: it caps what the host serves, so
 * writes, which flow the other way, are not charged). Stores nothing; closing it closes nothing,
 * the {@link VolumeExport} closes the overlay.
 */
final class VolumeTraffic extends ForwardingBlockDevice {
    private final VolumeMeters meters;
    /** The agent's downstream bucket, or null when there is no cap. */
    private final TokenBucket readCap;

    VolumeTraffic(final BlockDevice next, final VolumeMeters meters, final TokenBucket readCap) {
        super(next);
        this.meters = meters;
        this.readCap = readCap;
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        if (offset < 0 || offset > next.size() - length) {
            // Out-of-range requests are rejected before they cost tokens.
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside device of "
                    + next.size() + " bytes");
        }
        if (readCap != null) {
            readCap.acquire(length);
        }
        next.read(offset, dst);
        meters.read(length);
    }

    @Override
    public void write(final long offset, final ByteBuffer src) throws IOException {
        int length = src.remaining();
        next.write(offset, src);
        meters.written(length);
    }

    /** Closes nothing: the {@link VolumeExport} closes the overlay below. */
    @Override
    public void close() {
    }
}
