package dev.virtman.block.cache;

import dev.virtman.block.BlockDevice;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Shared set-up for the cache tests: parents named p0, p1, ... and a quick fetch policy. */
final class CacheTestSupport {
    /** Short enough to keep stall tests fast, long enough for a loaded CI machine. */
    static final FetchPolicy QUICK = new FetchPolicy(Duration.ofMillis(500), 2, Duration.ofMillis(10),
            Duration.ofMillis(50), Duration.ofMillis(100), 8);
    /**
     * For tests that count upstream bytes exactly and never stall a parent: a 500 ms attempt
     * timeout fires on a CPU-starved machine (load 40), the retry fetches a chunk twice, and the
     * count is off by one chunk for a reason the test is not about.
     */
    static final FetchPolicy STEADY = QUICK.withAttemptTimeout(Duration.ofSeconds(30));

    private CacheTestSupport() {
    }

    static ParentSet parents(final MeterRegistry registry, final BlockDevice... devices) {
        List<ParentSet.Named> named = new ArrayList<>();
        for (int i = 0; i < devices.length; i++) {
            named.add(new ParentSet.Named("p" + i, devices[i]));
        }
        return new ParentSet(named, QUICK.parentCooldown(), registry);
    }
}
