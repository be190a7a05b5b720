package dev.virtman.block.cache;

/**
 * Bytes a cache may still fill on this host. {@link ChunkCache} reserves a chunk's length before
 * writing it; when no space can be found the chunk is still served, just not kept.
 */
public interface SpaceBudget {
    SpaceBudget UNLIMITED = new SpaceBudget() {
        @Override
        public boolean tryReserve(final long bytes) {
            return true;
        }

        @Override
        public void release(final long bytes) {
        }
    };

    /** Claims {@code bytes}, possibly after evicting idle images; false when they cannot be found. */
    boolean tryReserve(long bytes);

    /** Returns bytes claimed by a {@link #tryReserve} whose write did not happen. */
    void release(long bytes);
}
