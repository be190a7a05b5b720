package dev.virtman.manager;

import dev.virtman.manager.tree.DistributionTree;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** The control plane's meters; gauges read the state under its lock when scraped. */
final class ManagerMetrics {

    private final ManagerState state;
    private final MeterRegistry registry;
    final Counter reparentEvents;
    final Counter heartbeats;
    final DistributionSummary joinGroups;
    final DistributionSummary registrationGroups;
    /** Manager-clock millis of the failure detector's last judging pass; 0 before the first. */
    private final AtomicLong judgedAtMillis = new AtomicLong();
    /** Guarded by the state lock's after-commit actions (always run under it). */
    private final Map<String, Gauge> depthGauges = new HashMap<>();

    ManagerMetrics(final ManagerState state, final MeterRegistry registry) {
        this.state = state;
        this.registry = registry;
        this.reparentEvents = Counter.builder("virtman.reparent.events")
                .description("hosts moved to a new parent after a failure").register(registry);
        this.heartbeats = Counter.builder("virtman.heartbeats").description("heartbeats received").register(registry);
        this.joinGroups = DistributionSummary.builder("virtman.heartbeat.join.group")
                .description("heartbeats whose tree membership changes were planned and committed together")
                .register(registry);
        this.registrationGroups = DistributionSummary.builder("virtman.host.registration.group")
                .description("host registrations committed together").register(registry);
        Gauge.builder("virtman.hosts.alive", this, m -> m.countHosts(false)).register(registry);
        Gauge.builder("virtman.hosts.failed", this, m -> m.countHosts(true)).register(registry);
        Gauge.builder("virtman.hosts.unplaced", this, ManagerMetrics::countUnplaced)
                .description("hosts waiting for a place in some image's tree (limits reached)").register(registry);
        Gauge.builder("virtman.detector.judged.timestamp", judgedAtMillis, a -> a.get() / 1000.0).baseUnit("seconds")
                .description("when the failure detector last judged every host's silence (0: not yet, or not leading)")
                .register(registry);
        Gauge.builder("virtman.tree.depth.max", this, ManagerMetrics::maxTreeDepth)
                .description("deepest tree level over all images").register(registry);
    }

    /** The failure detector ran late by this much (the manager stalled); not counted as silence. */
    void detectorPaused(final long millis) {
        registry.counter("virtman.detector.paused.seconds").increment(millis / 1000.0);
    }

    /** The failure detector judged every host's silence at {@code nowMillis} (manager clock). */
    void detectorJudged(final long nowMillis) {
        judgedAtMillis.set(nowMillis);
    }

    void hostFailed(final String cause) {
        registry.counter("virtman.host.failures", "cause", cause).increment();
    }

    void addImage(final String imageId) {
        depthGauges.put(imageId, Gauge.builder("virtman.tree.depth", this, m -> m.depthOf(imageId))
                .tag("image", imageId).description("deepest level of the image's tree").register(registry));
    }

    void removeImage(final String imageId) {
        Gauge gauge = depthGauges.remove(imageId);
        if (gauge != null) {
            registry.remove(gauge);
        }
    }

    private double countHosts(final boolean failed) {
        synchronized (state) {
            return state.hosts.values().stream().filter(h -> h.failed() == failed).count();
        }
    }

    private double countUnplaced() {
        synchronized (state) {
            return state.unplaced.values().stream().mapToInt(java.util.List::size).sum();
        }
    }

    private double maxTreeDepth() {
        synchronized (state) {
            return state.trees.values().stream().mapToInt(DistributionTree::depth).max().orElse(0);
        }
    }

    private double depthOf(final String imageId) {
        synchronized (state) {
            DistributionTree t = state.trees.get(imageId);
            return t == null ? 0 : t.depth();
        }
    }
}
