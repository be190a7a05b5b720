package dev.virtman.sim;

import static dev.virtman.sim.StormModel.ABSENT;

import dev.virtman.block.cache.ChunkCache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Arrays;

/**
 * Every host prefetches the whole boot profile from the start, as ManagedAgent does with
 * {@code ChunkCache.prefetchInOrder}: the cache's prefetch threads take the profile's chunks in
 * order, one chunk per fetch; a chunk already cached or in flight when its turn comes is
 * skipped. (The agent's feeder keeps a window of two chunks per thread queued, so it may look at
 * a chunk slightly before a thread takes it; the model looks when a thread is free.)
 */
final class PrefetchModel {

    private final StormModel m;
    private final ChunkTransfers transfers;
    private final int[] profile;
    private final int[] prefetchNext;
    private final int[][] prefetchSlots;

    PrefetchModel(final StormModel model, final ChunkTransfers transfers, final int[] profile) {
        this.m = model;
        this.transfers = transfers;
        this.profile = profile;
        int threads = ChunkCache.Options.defaults(new SimpleMeterRegistry()).prefetchThreads();
        this.prefetchNext = new int[model.hostCount];
        this.prefetchSlots = new int[model.hostCount][threads];
        for (int[] s : prefetchSlots) {
            Arrays.fill(s, -1);
        }
    }

    void start() {
        for (int h = 0; h < m.hostCount; h++) {
            int host = h;
            m.loop.at(0, () -> pump(host));
        }
    }

    /** Chunk {@code c} at {@code h} arrived or failed: the thread that fetched it takes the next. */
    void released(final int h, final int c) {
        int[] slots = prefetchSlots[h];
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == c) {
                slots[i] = -1;
            }
        }
        pump(h);
    }

    /** Gives free prefetch threads the next profile chunks neither cached nor in flight. */
    private void pump(final int h) {
        if (m.dead[h]) {
            return;
        }
        int[] slots = prefetchSlots[h];
        for (int i = 0; i < slots.length; i++) {
            while (slots[i] < 0 && prefetchNext[h] < profile.length) {
                int c = profile[prefetchNext[h]++];
                if (m.state[h][c] == ABSENT) {
                    slots[i] = c;
                    transfers.startFetch(h, new int[] {c});
                }
            }
        }
    }
}
