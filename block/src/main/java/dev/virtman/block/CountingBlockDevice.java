package dev.virtman.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Passes reads through and counts them: the source target's bytes-served figure, and upstream traffic in tests. */
public final class CountingBlockDevice extends ForwardingBlockDevice {
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();

    public CountingBlockDevice(final BlockDevice next) {
        super(next);
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        reads.incrementAndGet();
        bytes.addAndGet(dst.remaining());
        next.read(offset, dst);
    }

    public int reads() {
        return reads.get();
    }

    public long bytes() {
        return bytes.get();
    }
}
