package dev.virtman.boot;

import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.manifest.ChunkManifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * A read-only check that an agent's cache holds nothing but image data: every chunk marked present
 * is read straight from the cache's data file (not through the cache, which would fetch or repair)
 * and hashed against the image's chunk manifest. A VM write that leaked through the read-only export
 * into the cache would show up here as a mismatch. Unlike {@link ChunkCache#scrub()}, it changes
 * nothing.
 */
public final class CacheAudit {
    private static final int MAX_REPORTED = 10;

    private CacheAudit() {
    }

    /**
     * @param present    chunks marked present
     * @param bytes      image bytes they hold
     * @param mismatched the first mismatching chunk indexes (at most {@value #MAX_REPORTED})
     * @param mismatches how many chunks mismatched in all
     */
    public record Result(int present, long bytes, List<Integer> mismatched, int mismatches) {
        public boolean clean() {
            return mismatches == 0;
        }

        /** One line for the operator, e.g. "312 chunks present (78.0 MiB), all match the image's manifest". */
        public String describe() {
            return present + " chunks present (" + Bytes.human(bytes) + "), "
                    + (clean() ? "all match the image's manifest" : mismatches + " do NOT match, e.g. " + mismatched);
        }
    }

    public static Result check(final ChunkCache cache) throws IOException {
        ChunkManifest manifest = cache.manifest();
        int present = 0;
        long bytes = 0;
        int mismatches = 0;
        List<Integer> mismatched = new ArrayList<>();
        try (FileChannel data = FileChannel.open(cache.directory().resolve("data"))) {
            for (int i = 0; i < manifest.chunkCount(); i++) {
                if (!cache.isPresent(i)) {
                    continue;
                }
                ByteBuffer chunk = ByteBuffer.allocate(manifest.chunkLength(i));
                while (chunk.hasRemaining() && data.read(chunk, manifest.chunkOffset(i) + chunk.position()) >= 0) {
                    // positional reads until the chunk is full (or the file ends: then it mismatches)
                }
                chunk.flip();
                present++;
                bytes += manifest.chunkLength(i);
                if (!manifest.matches(i, chunk)) {
                    mismatches++;
                    if (mismatched.size() < MAX_REPORTED) {
                        mismatched.add(i);
                    }
                }
            }
        }
        return new Result(present, bytes, List.copyOf(mismatched), mismatches);
    }
}
