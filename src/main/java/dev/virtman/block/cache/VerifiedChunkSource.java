package dev.virtman.block.cache;

import java.io.IOException;
import java.nio.ByteBuffer;

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
}
