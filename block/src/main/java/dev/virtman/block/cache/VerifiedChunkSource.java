package dev.virtman.block.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a {@link ChunkCache} gets chunks it does not hold. The contract that lets the cache
 * write and serve the result without hashing it again: every buffer returned holds exactly the
 * chunk's bytes and matches the manifest's SHA-256 for it.
 */
@FunctionalInterface
public interface VerifiedChunkSource {
    /**
     * Returns chunk {@code index} (position 0, limit = chunk length), verified against the
     * manifest, or throws when no parent could deliver it.
     */
    ByteBuffer fetch(int index) throws IOException;

    /**
     * Returns chunks {@code first .. first + count - 1}, each verified as by {@link #fetch}, in
     * order. A source that can read a run of chunks in one upstream request overrides this; the
     * default fetches them one by one.
     */
    default List<ByteBuffer> fetchRun(final int first, final int count) throws IOException {
        List<ByteBuffer> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(fetch(first + i));
        }
        return out;
    }
}
