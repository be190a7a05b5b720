package dev.virtman.agent;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TokenBucketTest {
    private static final long RATE = 1_000_000;

    @Test
    void aFullBucketLetsTheBurstPassAtOnceThenChargesDebt() {
        TokenBucket bucket = new TokenBucket(RATE, RATE / 10);
        assertThat(bucket.reserve(RATE / 10)).isZero();
        long wait = bucket.reserve(RATE / 2);
        // Half a second of debt at 1 MB/s, less the few microseconds of refill in between.
        assertThat(wait).isBetween(490_000_000L, 500_000_000L);
        long behind = bucket.reserve(RATE / 10);
        assertThat(behind).as("a later caller queues behind the debt").isGreaterThan(wait);
    }

    @Test
    void sustainedThroughputStaysNearTheRate() throws Exception {
        TokenBucket bucket = new TokenBucket(RATE * 20, RATE);
        long start = System.nanoTime();
        long total = 0;
        while (total < RATE * 5) {
            bucket.acquire(64 << 10);
            total += 64 << 10;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // 5 MB at 20 MB/s with a 1 MB burst: at least 0.2 s, never much faster.
        assertThat(seconds).isGreaterThan(0.18);
    }
}
