package dev.virtman.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test filter that misbehaves like a bad parent: flips a byte, stops short, throws, or stalls
 * until {@link #release()}. Counts the reads it saw.
 */
public final class FaultyBlockDevice extends ForwardingBlockDevice {
    /** How the device lies. */
    public enum Fault { NONE, CORRUPT, SHORT_READ, ERROR, STALL }

    private volatile Fault fault;
    private final CountDownLatch stallRelease = new CountDownLatch(1);
    private final AtomicInteger reads = new AtomicInteger();
    /** Reads the fault still spoils before the device heals; negative: it never heals by itself. */
    private final AtomicInteger faultyReadsLeft = new AtomicInteger(-1);

    public FaultyBlockDevice(final BlockDevice next, final Fault fault) {
        super(next);
        this.fault = fault;
    }

    public void setFault(final Fault f) {
        this.fault = f;
    }

    /** The fault spoils the next {@code n} reads only, then the device reads normally: a parent that recovers. */
    public FaultyBlockDevice healingAfter(final int n) {
        faultyReadsLeft.set(n);
        return this;
    }

    /** Lets every stalled read (and later ones) continue. */
    public void release() {
        stallRelease.countDown();
    }

    public int reads() {
        return reads.get();
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        reads.incrementAndGet();
        if (faultyReadsLeft.get() >= 0 && faultyReadsLeft.getAndDecrement() <= 0) {
            fault = Fault.NONE;
        }
        switch (fault) {
            case NONE -> next.read(offset, dst);
            case CORRUPT -> {
                int start = dst.position();
                next.read(offset, dst);
                dst.put(start, (byte) (dst.get(start) ^ 0x5A));
            }
            case SHORT_READ -> {
                ByteBuffer half = dst.slice(dst.position(), dst.remaining() / 2);
                next.read(offset, half);
                dst.position(dst.position() + half.capacity());
            }
            case ERROR -> throw new IOException("injected parent error");
            case STALL -> {
                try {
                    stallRelease.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
                next.read(offset, dst);
            }
        }
    }
}
