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

/**
 * The upstreams an agent may fetch an image's chunks from, in the manager's preference order
 * (nearest parent first, the source last), with each parent's recent health and its metrics.
 *
 * <p>A parent that failed goes to the back of the order for a cool-down that doubles with each
 * consecutive failure, so one bad parent costs one timeout, not one per chunk; it is still tried
 * when every healthier parent has failed ({@link ParentHealth} decides the order; this class adds
 * the devices and meters). Nothing here is persisted: health is per process.
 */
public final class ParentSet {

    /** Why an attempt failed; the {@code reason} tag of the failure counter. */
    public enum FailureReason {
        ERROR, SHORT_READ, MISMATCH, TIMEOUT, OVERLOADED,
        /** Still had not answered when a hedged request to a further parent did (it may answer later). */
        SLOW;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One upstream: a name for logs and metrics, and the device that reads from it. */
    public static final class Parent {
        private final String name;
        private final BlockDevice device;
        private final Probe probe;
        /** This parent's number in {@link ParentSet#health}. */
        private final int index;
        /** Reads started and not yet returned, abandoned or not. */
        final AtomicInteger outstanding = new AtomicInteger();
        /** Reads given up on after a timeout that have not returned yet. */
        final AtomicInteger abandoned = new AtomicInteger();
        private final Counter bytesFetched;
        private final Timer latency;
        private final Counter[] failures;

        private Parent(final String name, final BlockDevice device, final Probe probe, final int index,
                       final MeterRegistry registry) {
            this.name = name;
            this.device = device;
            this.probe = probe;
            this.index = index;
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

        /** The parent's liveness probe, or null. */
        public Probe probe() {
            return probe;
        }

        /** This parent's place in the manager's preference order (0 = nearest). */
        public int index() {
            return index;
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
    /** The order decision, shared with the boot-storm simulation; fed with the fetch clock here. */
    private final ParentHealth health;
    private final FetchClock clock;

    /**
     * @param named    parents in preference order, as (name, device) pairs with unique names
     * @param cooldown base cool-down after a failure
     */
    public ParentSet(final List<Named> named, final Duration cooldown, final MeterRegistry registry) {
        this(named, cooldown, registry, FetchClock.SYSTEM);
    }

    /** As above, with cool-downs timed by {@code clock}. */
    public ParentSet(final List<Named> named, final Duration cooldown, final MeterRegistry registry,
                     final FetchClock clock) {
        if (named.isEmpty()) {
            throw new IllegalArgumentException("a parent set needs at least one parent");
        }
        Set<String> seen = new HashSet<>();
        List<Parent> list = new ArrayList<>();
        for (Named n : named) {
            if (!seen.add(n.name())) {
                throw new IllegalArgumentException("duplicate parent name " + n.name());
            }
            list.add(new Parent(n.name(), n.device(), n.probe(), list.size(), registry));
        }
        this.parents = List.copyOf(list);
        this.clock = clock;
        this.health = new ParentHealth(list.size(), cooldown.toNanos(), clock.nanoTime());
    }

    /**
     * A parent as the caller names it, with a liveness probe: whether it answers anything within a
     * timeout (an iSCSI parent is pinged), used to tell a slow parent from a silent one.
     */
    public record Named(String name, BlockDevice device, Probe probe) {
        /** A parent without a probe: a parent that stops answering reads counts as silent. */
        public Named(final String name, final BlockDevice device) {
            this(name, device, null);
        }
    }

    /** Whether a parent answers anything (not necessarily a read) within a timeout. */
    @FunctionalInterface
    public interface Probe {
        boolean answers(Duration timeout) throws InterruptedException;
    }

    public List<Parent> parents() {
        return parents;
    }

    /** Healthy parents in preference order, then cooling-down ones, soonest-recovered first. */
    List<Parent> attemptOrder() {
        int[] order = health.attemptOrder(clock.nanoTime());
        List<Parent> out = new ArrayList<>(order.length);
        for (int i : order) {
            out.add(parents.get(i));
        }
        return out;
    }

    FetchClock clock() {
        return clock;
    }

    /** Whether {@code parent} is at the back of the order for a recent failure. */
    public boolean coolingDown(final Parent parent) {
        return health.coolingDown(parent.index, clock.nanoTime());
    }

    void recordSuccess(final Parent parent, final int bytes, final long nanos) {
        health.recordSuccess(parent.index, clock.nanoTime());
        parent.bytesFetched.increment(bytes);
        parent.latency.record(Duration.ofNanos(nanos));
    }

    /**
     * A read given up on (timed out, or beaten by a hedge) answered after all: the parent is
     * alive, so it is healthy again. Its bytes were not used and are not counted.
     */
    void recordLateAnswer(final Parent parent) {
        health.recordSuccess(parent.index, clock.nanoTime());
    }

    void recordFailure(final Parent parent, final FailureReason reason) {
        parent.failures[reason.ordinal()].increment();
        health.recordFailure(parent.index, clock.nanoTime());
    }
}
