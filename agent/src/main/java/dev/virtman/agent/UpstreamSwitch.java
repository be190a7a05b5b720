package dev.virtman.agent;

import dev.virtman.block.cache.ChunkFetcher;
import dev.virtman.block.cache.VerifiedChunkSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The chunk source a cache fetches through, swappable while VMs read: when the manager moves an
 * agent to other parents, new fetches go to the new {@link ChunkFetcher} at once and fetches in
 * flight finish on the old one. The cache never notices; only the upstream changes.
 */
final class UpstreamSwitch implements VerifiedChunkSource {
    private volatile ChunkFetcher current;

    UpstreamSwitch(final ChunkFetcher first) {
        this.current = first;
    }

    ChunkFetcher current() {
        return current;
    }

    /** Installs {@code next} and returns the fetcher it replaced (the caller closes it). */
    ChunkFetcher swap(final ChunkFetcher next) {
        ChunkFetcher old = current;
        current = next;
        return old;
    }

    /**
     * Fetches through the current fetcher. A fetch that fails after the parents were replaced
     * under it gets one more go on the new parents: the manager moves an agent precisely when
     * its old parents failed, and a VM read must not fail for asking a moment too early (a
     * 100-host storm's interior kill failed VM reads this way).
     */
    @Override
    public ByteBuffer fetch(final int index) throws IOException {
        ChunkFetcher used = current;
        try {
            return used.fetch(index);
        } catch (IOException e) {
            ChunkFetcher now = current;
            if (now == used) {
                throw e;
            }
            return now.fetch(index);
        }
    }

    /** A run through the current fetcher (one upstream read), with the same second go as {@link #fetch}. */
    @Override
    public List<ByteBuffer> fetchRun(final int first, final int count) throws IOException {
        ChunkFetcher used = current;
        try {
            return used.fetchRun(first, count);
        } catch (IOException e) {
            ChunkFetcher now = current;
            if (now == used) {
                throw e;
            }
            return now.fetchRun(first, count);
        }
    }
}
