package dev.virtman.manager;

import dev.virtman.manager.api.FailureReportReply;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.model.HostRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host liveness: signs of life (heartbeats, registrations, reports), hosts silent past the
 * timeout, and children reporting a parent they cannot reach. A failed host leaves every tree
 * (its subtrees re-planned) until it heartbeats again.
 *
 * <p>Liveness is memory-only. After a restart every known host gets a full timeout of grace, so
 * agents mid-boot carry on with the trees they were given.
 */
final class FailureDetector {

    private static final Logger LOG = LoggerFactory.getLogger(FailureDetector.class);
    /** A heartbeat older than this many intervals counts as missed when a child reports its parent. */
    private static final double STALE_INTERVALS = 2;
    /** Silent hosts failed per transaction (see {@link #expire}). */
    static final int FAIL_GROUP = 500;

    private final ManagerState state;
    private final TreeService trees;
    private final ManagerMetrics metrics;
    /** Children's reports of silent parents; guarded by the state lock, memory-only like liveness. */
    private final SuspicionTracker suspicions;
    /**
     * When each host's latest heartbeat arrived, noted before the request waits for the state
     * lock. Joins re-plan and commit under the lock (in groups, see {@link Heartbeats}, but on a
     * starved machine still for seconds when 64 agents join at once), so a placed host's
     * heartbeat can wait while the detector gets the lock first and sees only the last heartbeat
     * that got through: a 1,000-VM boot storm failed live hosts exactly during such waves, when
     * each join still committed alone. Arrival is the evidence of life. Folded into the hosts'
     * {@link Liveness} (and emptied) by each detector pass, so ids that are not registered hosts
     * do not pile up.
     */
    private final ConcurrentHashMap<String, Long> heardAt = new ConcurrentHashMap<>();

    /** Time the detector could not run (the manager stalled): not counted as anybody's silence. */
    private final LocalPauses pauses;

    FailureDetector(final ManagerState state, final TreeService trees, final ManagerMetrics metrics,
                    final LongSupplier nanos) {
        this.state = state;
        this.pauses = new LocalPauses(nanos, Manager.detectorPeriod(state.config.heartbeatInterval()).toNanos());
        this.trees = trees;
        this.metrics = metrics;
        this.suspicions = new SuspicionTracker(state.config.heartbeatTimeout().toMillis(),
                (long) (STALE_INTERVALS * state.config.heartbeatInterval().toMillis()));
    }

    /** A heartbeat from a valid host id arrived (no lock needed). */
    void arrived(final String hostId) {
        if (hostId != null && TargetNames.HOST_ID.matcher(hostId).matches()) {
            heardAt.merge(hostId, state.clock.millis(), Math::max);
        }
    }

    /** The host showed a sign of life now. Lock held. */
    Liveness markSeen(final String hostId) {
        long now = state.clock.millis();
        Liveness live = state.liveness.computeIfAbsent(hostId, k -> new Liveness(now));
        live.lastSeenMillis = now;
        live.heardSinceStart = true;
        // Reports are not cleared here: a host partitioned from its children may still reach
        // the manager. They expire after one timeout instead (see reportFailure).
        return live;
    }

    /**
     * A child cannot reach its parent. Fails the parent at once if its heartbeat is stale too, or
     * if another child already complained; otherwise marks it suspect (a lone report may be the
     * child's own network trouble, and moving a healthy parent's whole subtree is costly). See
     * {@link SuspicionTracker}. A report from a host that does not have the suspect among its
     * ancestors in any tree is answered "ignored": only children can tell that a parent is silent.
     */
    FailureReportReply report(final String reporter, final String failedHostId) {
        HostRegistry.requireHostId(reporter, "reporter");
        HostRegistry.requireHostId(failedHostId, "failedHostId");
        if (reporter.equals(failedHostId)) {
            throw ManagerException.invalid("a host cannot report itself failed");
        }
        synchronized (state) {
            state.requireHost(reporter);
            HostRecord suspect = state.requireHost(failedHostId);
            markSeen(reporter);
            if (suspect.failed()) {
                return new FailureReportReply(failedHostId, "failed");
            }
            if (state.trees.values().stream()
                    .noneMatch(t -> t.contains(reporter) && t.ancestorsOf(reporter).contains(failedHostId))) {
                LOG.info("report by {} about {} ignored: not its child in any tree", reporter, failedHostId);
                return new FailureReportReply(failedHostId, "ignored");
            }
            long now = state.clock.millis();
            Liveness live = state.liveness.computeIfAbsent(failedHostId, k -> new Liveness(now));
            foldArrivals();
            if (suspicions.report(failedHostId, reporter, now, live.lastSeenMillis) == SuspicionTracker.Verdict.FAILED) {
                Set<String> by = suspicions.reporters(failedHostId, now);
                fail(failedHostId, by.size() >= SuspicionTracker.REPORTERS_TO_FAIL ? "reported by " + by
                        : "reported by " + reporter + ", heartbeat stale");
                return new FailureReportReply(failedHostId, "failed");
            }
            LOG.info("host {} suspect: reported by {}, heartbeat still fresh", failedHostId, reporter);
            return new FailureReportReply(failedHostId, "suspect");
        }
    }

    /**
     * Fails every host silent for longer than the timeout. Called every {@link Manager#detectorPeriod}
     * by one thread; time the manager stalled between two calls ({@link LocalPauses}) is credited
     * to every host first.
     */
    int expireSilentHosts() {
        long paused = pauses.passStarting();
        try {
            return expire(paused);
        } finally {
            pauses.passEnded();
        }
    }

    private int expire(final long pausedMillis) {
        synchronized (state) {
            foldArrivals();
            long now = state.clock.millis();
            long timeout = state.config.heartbeatTimeout().toMillis();
            if (pausedMillis > 0) {
                // The manager did not run for that long: pings may be waiting unread in socket
                // buffers (an enrolment wave starving the machine), so that time is nobody's silence.
                state.liveness.values().forEach(live ->
                        live.lastSeenMillis = Math.min(now, live.lastSeenMillis + pausedMillis));
                metrics.detectorPaused(pausedMillis);
                LOG.info("failure detector ran {} ms late (the manager stalled): not counted as silence", pausedMillis);
            }
            if (state.storeUnavailableAtMillis != Long.MIN_VALUE && now - state.storeUnavailableAtMillis <= timeout) {
                // The store refused a commit within the last timeout (etcd without quorum): agents
                // got 503s and moved between managers, so silence proves nothing, and failing a
                // host is a write that may yet land after its timeout. Judge nobody; every host
                // gets a full timeout once commits succeed again.
                state.liveness.values().forEach(live -> live.seenAtLeast(now));
                return 0;
            }
            List<String> silent = new ArrayList<>();
            for (HostRecord h : state.hosts.values()) {
                Liveness live = state.liveness.get(h.hostId());
                if (!h.failed() && live != null && now - live.lastSeenMillis > timeout) {
                    silent.add(h.hostId());
                }
            }
            // At most FAIL_GROUP hosts per transaction: a host key each plus the tree edges that
            // move stay within etcd's --max-txn-ops as docs/manager.md asks to set it (10000).
            for (int from = 0; from < silent.size(); from += FAIL_GROUP) {
                Map<String, String> why = new java.util.LinkedHashMap<>();
                for (String hostId : silent.subList(from, Math.min(silent.size(), from + FAIL_GROUP))) {
                    why.put(hostId, "no heartbeat for " + (now - state.liveness.get(hostId).lastSeenMillis) + " ms");
                }
                fail(why);
            }
            metrics.detectorJudged(now);
            return silent.size();
        }
    }

    /** Whether a child's report against the host is younger than the timeout. Lock held. */
    boolean suspect(final String hostId, final long now) {
        return suspicions.suspected(hostId, now);
    }

    /** Moves heartbeat arrival times noted outside the lock into the hosts' liveness. Lock held. */
    private void foldArrivals() {
        for (Map.Entry<String, Long> e : heardAt.entrySet()) {
            Liveness live = state.liveness.get(e.getKey());
            if (live != null && e.getValue() > live.lastSeenMillis) {
                live.lastSeenMillis = e.getValue();
                live.heardSinceStart = true;
            }
            heardAt.remove(e.getKey(), e.getValue());
        }
    }

    private void fail(final String hostId, final String why) {
        fail(Map.of(hostId, why));
    }

    /**
     * Fails hosts (host -> why) in one transaction: one copy of the host map, one re-plan per
     * image they were in and one commit, however many went silent in the same pass (a
     * network partition, or a wave that starved their agents, fails hundreds at once).
     */
    private void fail(final Map<String, String> why) {
        state.transact(tx -> {
            tx.change.rebuildable();
            state.hosts = ManagerState.copy(state.hosts);
            why.forEach((hostId, reason) -> {
                HostRecord failed = state.hosts.get(hostId).withFailed(true);
                state.hosts.put(hostId, failed);
                tx.change.putHost(failed);
                tx.afterCommit(() -> {
                    suspicions.clear(hostId);
                    metrics.hostFailed(reason.startsWith("reported") ? "report" : "timeout");
                    LOG.warn("host {} failed ({})", hostId, reason);
                });
            });
            trees.replanFor(why.keySet(), tx);
            return null;
        });
    }
}
