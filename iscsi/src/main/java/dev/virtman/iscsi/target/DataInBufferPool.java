package dev.virtman.iscsi.target;

import dev.virtman.scsi.DataInBuffers;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Direct buffers lent to read commands for their Data-In, shared by every connection of a server.
 *
 * <p>Design note. A read used to land in a fresh heap buffer: the JDK zeroed it, read the file
 * into a temporary direct buffer of its own and copied it over, and the connection's writer copied
 * it once more into its direct staging buffer before the socket write: three passes over every
 * byte in user space, plus garbage (issue 16's storm profile: 5-10 % of all CPU samples). A read
 * of at most {@link #SLAB_BYTES} now gets a direct slab: the file is read straight into it and the
 * writer hands it to the socket in a gathering write, so the bytes cross user space in no copy at
 * all. The cache still decides what is read (only present, verified chunks, or a freshly verified
 * fetch), so serving stays verified-only. Larger reads keep heap buffers.
 *
 * <p>A slab goes back to the pool once the response PDUs carrying it are written or dropped
 * ({@link Lease#release}, run from the writer's completion callback), never earlier. The pool
 * keeps at most {@code maxIdle} slabs; a slab not returned (a command that failed after taking
 * one) is simply garbage: the JDK frees direct memory when the buffer is collected. So direct
 * memory is bounded by what the server's in-flight budget lets be in flight, plus the idle slabs.
 */
final class DataInBufferPool {

    /** Largest read served from a slab: above the storm's pieces (64 KiB) and iscsi-perf's 128 KiB reads. */
    static final int SLAB_BYTES = 128 * 1024;

    private final ConcurrentLinkedDeque<ByteBuffer> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    private final int maxIdle;

    DataInBufferPool(final int maxIdle) {
        this.maxIdle = maxIdle;
    }

    /** A lease for one command: lends at most one slab, which {@link Lease#release} returns. */
    Lease lease() {
        return new Lease();
    }

    int idle() {
        return idleCount.get();
    }

    private ByteBuffer take() {
        ByteBuffer slab = idle.pollFirst();
        if (slab == null) {
            return ByteBuffer.allocateDirect(SLAB_BYTES);
        }
        idleCount.decrementAndGet();
        return slab;
    }

    private void give(final ByteBuffer slab) {
        if (idleCount.incrementAndGet() <= maxIdle) {
            idle.offerFirst(slab.clear());
        } else {
            idleCount.decrementAndGet();
        }
    }

    /** The buffers of one command ({@link DataInBuffers}) and their return. */
    final class Lease implements DataInBuffers {
        private ByteBuffer slab;

        @Override
        public ByteBuffer allocate(final int bytes) {
            if (slab != null || bytes > SLAB_BYTES) {
                return ByteBuffer.allocate(bytes);
            }
            slab = take();
            return slab.clear().limit(bytes).slice();
        }

        /** Returns the slab, if one was lent; call once its data is written or dropped. */
        void release() {
            ByteBuffer s = slab;
            slab = null;
            if (s != null) {
                give(s);
            }
        }
    }
}
