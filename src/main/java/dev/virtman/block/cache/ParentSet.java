package dev.virtman.block.cache;

import dev.virtman.block.BlockDevice;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The upstreams an agent may fetch an image's chunks from, in the manager's preference order
 * (nearest parent first, the source last), with each parent's recent health and its metrics.
 *
 * <p>A parent that failed goes to the back of the order for a cool-down that doubles with each
 * consecutive failure, so one bad parent costs one timeout, not one per chunk; it is still tried
 * when every healthier parent has failed. Nothing here is persisted: health is per process.
 */
public final class ParentSet {
    /** Longest cool-down as a multiple of the policy's base cool-down. */
    private static final int MAX_COOLDOWN_DOUBLINGS = 6;

    /** Why an attempt failed; the {@code reason} tag of the failure counter. */
    public enum FailureReason {
        ERROR, SHORT_READ, MISMATCH, TIMEOUT, OVERLOADED;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One upstream: a name for logs and metrics, and the device that reads from it. */
    public static final class Parent {
        private final String name;
        private final BlockDevice device;
        private final AtomicInteger consecutiveFailures = new AtomicInteger();
        private final AtomicLong cooldownUntilNanos = new AtomicLong(System.nanoTime());
        /** Reads given up on after a timeout that have not returned yet. */
        final AtomicInteger abandoned = new AtomicInteger();
        private final Counter bytesFetched;
        private final Timer latency;
        private final Counter[] failures;

        private Parent(final String name, final BlockDevice device, final MeterRegistry registry) {
            this.name = name;
            this.device = device;
            this.bytesFetched = Counter.builder("virtman.parent.fetch.bytes")
                    .description("verified chunk bytes fetched from a parent").baseUnit("bytes")
                    .tag("parent", name).register(registry);
            this.latency = Timer.builder("virtman.parent.fetch.latency")
                    .description("time for a parent to deliver one verified chunk")
                    .tag("parent", name).publishPercentileHistogram().register(registry);
            FailureReason[] reasons = FailureReason.values();
            this.failures = new Counter[reasons.length];
            for (FailureReason r : reasons) {
                failures[r.ordinal()] = Counter.builder("virtman.parent.fetch.failures")
                        .description("failed chunk fetch attempts").tag("parent", name).tag("reason", r.tag())
                        .register(registry);
            }
        }

        public String name() {
            return name;
        }

        public BlockDevice device() {
            return device;
        }

        public double bytesFetched() {
            return bytesFetched.count();
        }

        public double failures(final FailureReason reason) {
            return failures[reason.ordinal()].count();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final List<Parent> parents;
    private final Duration cooldown;

    /**
     * @param named    parents in preference order, as (name, device) pairs with unique names
     * @param cooldown base cool-down after a failure
     */
    public ParentSet(final List<Named> named, final Duration cooldown, final MeterRegistry registry) {
        if (named.isEmpty()) {
            throw new IllegalArgumentException("a parent set needs at least one parent");
        }
        Set<String> seen = new HashSet<>();
        List<Parent> list = new ArrayList<>();
        for (Named n : named) {
            if (!seen.add(n.name())) {
                throw new IllegalArgumentException("duplicate parent name " + n.name());
            }
            list.add(new Parent(n.name(), n.device(), registry));
        }
        this.parents = List.copyOf(list);
        this.cooldown = cooldown;
    }

    /** A parent as the caller names it. */
    public record Named(String name, BlockDevice device) { }

    public List<Parent> parents() {
        return parents;
    }

    /** Healthy parents in preference order, then cooling-down ones, soonest-recovered first. */
    List<Parent> attemptOrder() {
        long now = System.nanoTime();
        List<Parent> healthy = new ArrayList<>(parents.size());
        List<Parent> cooling = new ArrayList<>();
        for (Parent p : parents) {
            // A parent whose last attempt succeeded is healthy whatever its cool-down stamp says:
            // recordSuccess on another thread stamps a time that can be later than this "now",
            // which would otherwise demote a healthy parent behind the next one.
            if (p.consecutiveFailures.get() > 0 && p.cooldownUntilNanos.get() - now > 0) {
                cooling.add(p);
            } else {
                healthy.add(p);
            }
        }
        cooling.sort((a, b) -> Long.compare(a.cooldownUntilNanos.get() - now, b.cooldownUntilNanos.get() - now));
        healthy.addAll(cooling);
        return healthy;
    }

    void recordSuccess(final Parent parent, final int bytes, final long nanos) {
        parent.consecutiveFailures.set(0);
        parent.cooldownUntilNanos.set(System.nanoTime());
        parent.bytesFetched.increment(bytes);
        parent.latency.record(Duration.ofNanos(nanos));
    }

    void recordFailure(final Parent parent, final FailureReason reason) {
        parent.failures[reason.ordinal()].increment();
        int n = Math.min(parent.consecutiveFailures.incrementAndGet(), MAX_COOLDOWN_DOUBLINGS + 1);
        long pause = cooldown.toNanos() << (n - 1);
        parent.cooldownUntilNanos.set(System.nanoTime() + pause);
    }
}
