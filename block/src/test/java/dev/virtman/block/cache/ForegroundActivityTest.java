package dev.virtman.block.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the scrub counts a cache as busy: decided from its counters and the time given, no sleeping. */
class ForegroundActivityTest {
    private static final long S = 1_000_000_000L;
    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    @Test
    void aCacheIsBusyWhileItsWorkGrowsAndQuietTwoSecondsAfter() throws Exception {
        try (CacheTestSupport.SmallCache small = CacheTestSupport.smallCache(dir, CHUNK, 8, 3)) {
            ChunkCache cache = small.cache();
            ForegroundActivity activity = new ForegroundActivity();
            long t0 = 100 * S;
            assertThat(activity.busy(cache, ForegroundActivity.work(cache), t0)).as("first look").isFalse();
            cache.read(0, ByteBuffer.allocate(CHUNK)); // a fetch and a read
            long afterRead = ForegroundActivity.work(cache);
            assertThat(afterRead).isGreaterThan(0);
            assertThat(activity.busy(cache, afterRead, t0 + S)).as("work grew").isTrue();
            assertThat(activity.busy(cache, afterRead, t0 + 2 * S)).as("1 s after the last work").isTrue();
            assertThat(activity.busy(cache, afterRead, t0 + 3 * S)).as("2 s after").isFalse();
            cache.read(0, ByteBuffer.allocate(CHUNK)); // a hit counts too
            assertThat(activity.busy(cache, ForegroundActivity.work(cache), t0 + 4 * S)).isTrue();
            activity.retain(List.of());
            assertThat(activity.busy(cache, ForegroundActivity.work(cache), t0 + 4 * S)).as("forgotten: a first look again")
                    .isFalse();
        }
    }
}
