package dev.virtman.bench.block;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.ForwardingBlockDevice;
import dev.virtman.block.TokenBucket;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * Benchmark-only filter that makes a local file behave like a parent across a network link:
 * each request first waits one round trip, then its bytes pass a token bucket at the link rate.
 * Deliberately simple (no pipelining), so it charges every chunk fetch one full round trip.
 */
final class LinkModelBlockDevice extends ForwardingBlockDevice {
    private final long roundTripNanos;
    private final TokenBucket link;

    LinkModelBlockDevice(final BlockDevice next, final long roundTripNanos, final TokenBucket link) {
        super(next);
        this.roundTripNanos = roundTripNanos;
        this.link = link;
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        long until = System.nanoTime() + roundTripNanos;
        while (System.nanoTime() < until) {
            LockSupport.parkNanos(until - System.nanoTime());
            if (Thread.interrupted()) {
                throw new InterruptedIOException();
            }
        }
        link.acquire(dst.remaining());
        next.read(offset, dst);
    }
}
