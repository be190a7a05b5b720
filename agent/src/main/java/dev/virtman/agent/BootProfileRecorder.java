package dev.virtman.agent;

import dev.virtman.block.cache.ChunkAccessListener;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Records an image's boot profile: the order in which chunks were first read. The first agent
 * of an image records it during the first boot and uploads it to the manager; later agents
 * prefetch in that order, so the chunks a boot needs arrive before the VM asks for them.
 *
 * <p>Stores, in memory only, one bit per chunk (seen) and the first-read order; both are bounded
 * by the image's chunk count, since a chunk enters the order once. The boot is taken to be over
 * when no new chunk has been read for a quiet period (see {@link #quietFor}).
 */
public final class BootProfileRecorder implements ChunkAccessListener {
    private static final int BITS_PER_WORD = Long.SIZE;

    private final AtomicLongArray seen;
    private final ConcurrentLinkedQueue<Integer> order = new ConcurrentLinkedQueue<>();
    private final AtomicLong lastNewNanos = new AtomicLong();
    private final int chunkCount;

    public BootProfileRecorder(final int chunkCount) {
        this.chunkCount = chunkCount;
        this.seen = new AtomicLongArray((chunkCount + BITS_PER_WORD - 1) / BITS_PER_WORD);
    }

    @Override
    public void onAccess(final int chunkIndex, final long nanoTime) {
        if (chunkIndex < 0 || chunkIndex >= chunkCount) {
            return;
        }
        long mask = 1L << chunkIndex;
        int word = chunkIndex / BITS_PER_WORD;
        if ((seen.get(word) & mask) != 0) {
            return;
        }
        if ((seen.getAndUpdate(word, w -> w | mask) & mask) == 0) {
            order.add(chunkIndex);
            lastNewNanos.set(nanoTime);
        }
    }

    /** Chunks in first-read order so far. */
    public List<Integer> chunks() {
        return new ArrayList<>(order);
    }

    /** Whether something was read and no new chunk for {@code nanos} since (the boot settled). */
    boolean quietFor(final long nanos, final long nowNanos) {
        return !order.isEmpty() && nowNanos - lastNewNanos.get() >= nanos;
    }
}
