package dev.virtman.agent;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.HedgePolicy;

import java.time.Duration;

/**
 * A fetch policy for tests that prove the tree's byte accounting ("the source served each chunk
 * once"). Hedged requests and timed-out attempts trade extra source bytes for latency by design,
 * and a loaded CI machine triggers them: one hedge from agent B straight to the source failed a
 * fresh-clone run by exactly one chunk. Here neither may happen.
 */
final class ExactOnceFetching {
    static final FetchPolicy POLICY = FetchPolicy.DEFAULT.withHedging(HedgePolicy.OFF)
            .withAttemptTimeout(Duration.ofMinutes(1));

    private ExactOnceFetching() {
    }
}
