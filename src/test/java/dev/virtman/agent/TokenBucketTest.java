package dev.virtman.agent;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class TokenBucketTest {
    private static final long RATE = 1_000_000;
    private static final long MILLI = 1_000_000;

    private final AtomicLong now = new AtomicLong(1_000 * MILLI);

    @Test
    void aFullBucketLetsTheBurstPassAtOnceThenChargesDebt() {
        TokenBucket bucket = new TokenBucket(RATE, RATE / 10, now::get);
        assertThat(bucket.reserve(RATE / 10)).isZero();
        assertThat(bucket.reserve(RATE / 2)).as("half a second of debt at 1 MB/s").isEqualTo(500 * MILLI);
        assertThat(bucket.reserve(RATE / 10)).as("a later caller queues behind the debt").isEqualTo(600 * MILLI);
    }

    @Test
    void tokensRefillAtTheRateUpToTheBurst() {
        TokenBucket bucket = new TokenBucket(RATE, RATE / 10, now::get);
        bucket.reserve(RATE / 10);
        now.addAndGet(50 * MILLI);
        assertThat(bucket.reserve(RATE / 20)).as("50 ms refilled 50 KB").isZero();
        assertThat(bucket.reserve(1000)).isEqualTo(MILLI);
        now.addAndGet(10_000 * MILLI);
        assertThat(bucket.reserve(RATE / 10)).as("an idle bucket holds one burst").isZero();
        assertThat(bucket.reserve(RATE / 10)).isEqualTo(100 * MILLI);
    }

    @Test
    void sustainedThroughputDoesNotExceedTheRate() throws Exception {
        TokenBucket bucket = new TokenBucket(RATE * 20, RATE);
        long start = System.nanoTime();
        long total = 0;
        while (total < RATE * 5) {
            bucket.acquire(64 << 10);
            total += 64 << 10;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // 5 MB at 20 MB/s with a 1 MB burst: at least 0.2 s, however fast the machine.
        assertThat(seconds).isGreaterThan(0.19);
    }
}
