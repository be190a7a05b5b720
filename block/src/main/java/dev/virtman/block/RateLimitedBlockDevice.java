package dev.virtman.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The rate-limit filter: every read and write first draws its length from a {@link TokenBucket}.
 * Wrap each parent with one shared bucket to cap an agent's upstream traffic, or the exported
 * device to cap what local VMs and child agents pull. Stores nothing; the cap applies to bytes
 * moved, so a 1 MiB read costs the same as 2048 reads of 512 bytes.
 */
public final class RateLimitedBlockDevice extends ForwardingBlockDevice {
    private final TokenBucket bucket;

    public RateLimitedBlockDevice(final BlockDevice next, final TokenBucket bucket) {
        super(next);
        this.bucket = bucket;
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        if (offset < 0 || offset > next.size() - dst.remaining()) {
            // Out-of-range requests are rejected before they cost tokens.
            throw new IllegalArgumentException("range " + offset + "+" + dst.remaining()
                    + " outside device of " + next.size() + " bytes");
        }
        bucket.acquire(dst.remaining());
        next.read(offset, dst);
    }

    @Override
    public void write(final long offset, final ByteBuffer src) throws IOException {
        if (!next.isWritable()) {
            throw new ReadOnlyDeviceException();
        }
        bucket.acquire(src.remaining());
        next.write(offset, src);
    }
}
