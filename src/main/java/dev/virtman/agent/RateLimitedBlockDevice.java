package dev.virtman.agent;

import dev.virtman.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Bandwidth-cap filter: every read first takes its length from a shared {@link TokenBucket}, so
 * all devices sharing the bucket (all parents of all images, or all exports) stay under one cap.
 * Stores nothing; a read waits at most as long as the rate requires.
 */
public final class RateLimitedBlockDevice implements BlockDevice {
    private final BlockDevice next;
    private final TokenBucket bucket;

    public RateLimitedBlockDevice(final BlockDevice next, final TokenBucket bucket) {
        this.next = next;
        this.bucket = bucket;
    }

    /** {@code next} itself when {@code bucket} is null (no cap). */
    public static BlockDevice wrap(final BlockDevice next, final TokenBucket bucket) {
        return bucket == null ? next : new RateLimitedBlockDevice(next, bucket);
    }

    @Override
    public long size() {
        return next.size();
    }

    @Override
    public int logicalBlockSize() {
        return next.logicalBlockSize();
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        bucket.acquire(dst.remaining());
        next.read(offset, dst);
    }

    @Override
    public void close() throws IOException {
        next.close();
    }
}
