package dev.virtman.block;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenBucketTest {
    /** A clock that only moves when the bucket sleeps or the test advances it. */
    private static final class FakeClock implements TokenBucket.Clock {
        long now;
        final List<Long> sleeps = new ArrayList<>();

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void sleepNanos(final long nanos) {
            sleeps.add(nanos);
            now += nanos;
        }
    }

    @Test
    void burstPassesThenTheRateHolds() throws IOException {
        FakeClock clock = new FakeClock();
        TokenBucket bucket = new TokenBucket(1_000_000, 100_000, clock);
        bucket.acquire(100_000);
        assertThat(clock.sleeps).isEmpty();
        for (int i = 0; i < 10; i++) {
            bucket.acquire(100_000);
        }
        // 1 MB beyond the burst at 1 MB/s: one second of sleeping in total.
        assertThat(clock.sleeps.stream().mapToLong(Long::longValue).sum()).isEqualTo(1_000_000_000L);
        assertThat(clock.now).isEqualTo(1_000_000_000L);
    }

    @Test
    void requestsLargerThanTheBurstPassAfterPayingTheirDebt() throws IOException {
        FakeClock clock = new FakeClock();
        TokenBucket bucket = new TokenBucket(1000, 10, clock);
        bucket.acquire(1010);
        assertThat(clock.sleeps).containsExactly(1_000_000_000L);
    }

    @Test
    void idleTimeRefillsOnlyUpToTheBurst() throws IOException {
        FakeClock clock = new FakeClock();
        TokenBucket bucket = new TokenBucket(1000, 500, clock);
        bucket.acquire(500);
        clock.now += 3_600_000_000_000L;
        bucket.acquire(500);
        assertThat(clock.sleeps).isEmpty();
        bucket.acquire(1);
        assertThat(clock.sleeps).containsExactly(1_000_000L);
    }

    @Test
    void slowRatesAccumulateFractionalTokens() {
        FakeClock clock = new FakeClock();
        TokenBucket bucket = new TokenBucket(3, 3, clock);
        assertThat(bucket.reserve(3)).isZero();
        for (int i = 0; i < 3; i++) {
            clock.now += 333_333_334L;
        }
        assertThat(bucket.reserve(3)).isZero();
    }

    @Test
    void rateLimitedDeviceDrawsTokensPerByteAndRejectsOutOfRangeForFree(@org.junit.jupiter.api.io.TempDir final Path dir)
            throws IOException {
        Path file = TestImages.create(dir.resolve("img"), 64 * 1024, 1);
        FakeClock clock = new FakeClock();
        TokenBucket bucket = new TokenBucket(64 * 1024, 16 * 1024, clock);
        try (RateLimitedBlockDevice dev = new RateLimitedBlockDevice(FileBlockDevice.open(file, false), bucket)) {
            dev.read(0, ByteBuffer.allocate(16 * 1024));
            assertThat(clock.sleeps).isEmpty();
            dev.read(0, ByteBuffer.allocate(32 * 1024));
            assertThat(clock.sleeps).containsExactly(500_000_000L);
            assertThatThrownBy(() -> dev.read(60 * 1024, ByteBuffer.allocate(8192)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(clock.sleeps).hasSize(1);
            assertThatThrownBy(() -> dev.write(0, ByteBuffer.allocate(512))).isInstanceOf(ReadOnlyDeviceException.class);
        }
    }
}
