package dev.virtman.block.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache says a read needs no waiting only when every chunk it touches is present and verified:
 * the target then serves it on the connection's reader thread; a miss must go to a worker.
 */
class ReadsWithoutWaitingTest {
    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    @Test
    void onlyRangesOfReadyChunksReadWithoutWaiting() throws Exception {
        try (CacheTestSupport.SmallCache small = CacheTestSupport.smallCache(dir, CHUNK, 8, 5)) {
            ChunkCache cache = small.cache();
            assertThat(cache.readsWithoutWaiting(0, CHUNK)).as("cold").isFalse();
            cache.read(CHUNK, ByteBuffer.allocate(2 * CHUNK)); // chunks 1 and 2 fetched and verified
            cache.flush(); // ... and committed (present bits set)
            assertThat(cache.readsWithoutWaiting(CHUNK, 2 * CHUNK)).isTrue();
            assertThat(cache.readsWithoutWaiting(CHUNK + 100, 512)).as("inside a ready chunk").isTrue();
            assertThat(cache.readsWithoutWaiting(CHUNK, 3 * CHUNK)).as("runs into chunk 3, absent").isFalse();
            assertThat(cache.readsWithoutWaiting(0, 2 * CHUNK)).as("starts in chunk 0, absent").isFalse();
            assertThat(cache.readsWithoutWaiting(7L * CHUNK, 2 * CHUNK)).as("past the end").isFalse();
        }
    }
}
