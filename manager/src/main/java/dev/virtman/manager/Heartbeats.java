package dev.virtman.manager;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.model.HostRecord;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tree membership from heartbeats: a heartbeat marks the host alive, makes its tree memberships
 * match the images it lists, and is answered with its parent list per image. Trees change only
 * when membership changed or the host comes back from failure, so the steady state costs no
 * disk write.
 *
 * <p><b>Joins commit in groups.</b> A heartbeat is queued, and one heartbeat thread at a time
 * takes the state lock and applies every heartbeat queued by then: each one's checks and
 * liveness in arrival order, then all their membership changes in one transaction, with one
 * re-plan per affected image and one commit, then every member's reply from the committed
 * state. The other threads only wait for their replies. A wave of agents joining at once so
 * costs a few plans, commits and lock hand-offs instead of one of each per agent. No joiner is
 * answered before the commit that records it, a rejected heartbeat (unknown host, bad body) gets
 * its own error, and a failed commit fails only the heartbeats that needed it.
 */
final class Heartbeats {

    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);

    private final ManagerState state;
    private final TreeService trees;
    private final FailureDetector detector;
    private final ManagerMetrics metrics;
    /** Heartbeats waiting for the lock, applied as one group by the first to get it. */
    private final ConcurrentLinkedQueue<Queued> queue = new ConcurrentLinkedQueue<>();
    /** Set while one heartbeat thread applies the queue. */
    private final AtomicBoolean combining = new AtomicBoolean();
    /** Applies the registrations queued meanwhile (lock held), before each group of heartbeats. */
    private final Runnable queuedRegistrations;

    /**
     * @param queuedRegistrations applies the registrations waiting for the lock; run before each
     *                            group, lock held. In an enrolment wave the join combiner hands
     *                            the lock straight back to itself while heartbeats keep queueing
     *                            (a released monitor goes to the running thread that asks again,
     *                            not to the one that waited longest), so the registration combiner
     *                            waited for it for up to 47 s at 10,000 hosts
     *                            (docs/benchmarks-log.md); this way every join group also lets the
     *                            registrations through that arrived during the previous one
     */
    Heartbeats(final ManagerState state, final TreeService trees, final FailureDetector detector,
               final ManagerMetrics metrics, final Runnable queuedRegistrations) {
        this.state = state;
        this.trees = trees;
        this.detector = detector;
        this.metrics = metrics;
        this.queuedRegistrations = queuedRegistrations;
    }

    HeartbeatReply heartbeat(final String hostId, final HeartbeatRequest request) {
        detector.arrived(hostId);
        Queued mine = new Queued(hostId, request);
        queue.add(mine);
        // Flat combining: one thread at a time drains the queue under the lock; the others wait
        // for their replies without taking the lock. A combiner re-checks the queue after letting
        // go, so a heartbeat queued while it was draining is never left behind.
        if (Thread.holdsLock(state)) {
            applyQueued(); // a caller holding the lock must not wait for another combiner
        }
        while (!queue.isEmpty() && combining.compareAndSet(false, true)) {
            try {
                synchronized (state) {
                    applyQueued();
                }
            } finally {
                combining.set(false);
            }
        }
        try {
            return mine.reply.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** A heartbeat waiting to be applied, and its reply once the group it was in is committed. */
    private static final class Queued {
        final String hostId;
        final HeartbeatRequest request;
        final CompletableFuture<HeartbeatReply> reply = new CompletableFuture<>();
        /** Written and read under the lock. */
        RuntimeException rejection;

        Queued(final String hostId, final HeartbeatRequest request) {
            this.hostId = hostId;
            this.request = request;
        }
    }

    /** Applies every queued heartbeat as one group. Lock held. */
    private void applyQueued() {
        try {
            queuedRegistrations.run(); // a registration group: its members' results are completed either way
        } catch (RuntimeException e) {
            LOG.debug("a registration group applied before a join group failed: {}", e.toString());
        }
        List<Queued> batch = new ArrayList<>();
        for (Queued q = queue.poll(); q != null; q = queue.poll()) {
            batch.add(q);
        }
        List<Queued> joining = new ArrayList<>();
        try {
            for (Queued q : batch) {
                try {
                    if (note(q.hostId, q.request)) {
                        joining.add(q);
                    }
                } catch (RuntimeException e) {
                    q.rejection = e;
                }
            }
            if (!joining.isEmpty()) {
                commitMemberships(joining);
            }
        } catch (RuntimeException e) {
            joining.forEach(q -> q.rejection = e);
        } finally {
            // After the commit, so no joiner learns its parents before they are durable.
            batch.forEach(this::answer);
        }
    }

    private void answer(final Queued q) {
        if (q.rejection != null) {
            q.reply.completeExceptionally(q.rejection);
            return;
        }
        try {
            Map<String, HeartbeatReply.Placement> placements = new TreeMap<>();
            for (String image : reported(q.request).keySet()) {
                placements.put(image, trees.placement(q.hostId, image));
            }
            q.reply.complete(new HeartbeatReply(q.hostId, state.config.heartbeatInterval().toMillis(), placements));
        } catch (RuntimeException e) {
            q.reply.completeExceptionally(e);
        }
    }

    /**
     * Checks a heartbeat and records what lives only in memory (liveness, chunks held).
     *
     * @return whether its tree memberships must change (a join, a leave, or a failed host back)
     */
    private boolean note(final String hostId, final HeartbeatRequest request) {
        HostRecord host = state.requireHost(hostId);
        if (request.hostId() != null && !request.hostId().equals(hostId)) {
            throw ManagerException.invalid("hostId in body ('" + request.hostId() + "') does not match the path ('"
                    + hostId + "')");
        }
        Map<String, HeartbeatRequest.ImageReport> reported = reported(request);
        for (Map.Entry<String, HeartbeatRequest.ImageReport> e : reported.entrySet()) {
            if (e.getValue() == null || e.getValue().chunksPresent() < 0) {
                throw ManagerException.invalid("images." + e.getKey() + ".chunksPresent must be >= 0");
            }
        }
        metrics.heartbeats.increment();
        Liveness live = detector.markSeen(hostId);
        reported.forEach((image, report) -> live.chunksHeld.put(image, report.chunksPresent()));
        return host.failed() || !state.membership.getOrDefault(hostId, Set.of()).equals(wantedImages(reported));
    }

    /** One transaction for the membership changes of a group of heartbeats, one re-plan per image. */
    private void commitMemberships(final List<Queued> joining) {
        state.transact(tx -> {
            tx.change.rebuildable();
            Set<String> affected = new LinkedHashSet<>();
            state.membership = ManagerState.copy(state.membership);
            for (Queued q : joining) {
                String hostId = q.hostId;
                HostRecord host = state.hosts.get(hostId);
                Set<String> wanted = wantedImages(reported(q.request));
                Set<String> before = state.membership.getOrDefault(hostId, Set.of());
                // An earlier heartbeat of the same host in this group may have made the change.
                if (!host.failed() && before.equals(wanted)) {
                    continue;
                }
                affected.addAll(before);
                affected.addAll(wanted);
                state.membership.put(hostId, wanted);
                if (host.failed()) {
                    HostRecord revived = host.withFailed(false);
                    state.hosts = ManagerState.copy(state.hosts);
                    state.hosts.put(hostId, revived);
                    tx.change.putHost(revived);
                    tx.afterCommit(() -> LOG.info("host {} is back", hostId));
                }
            }
            for (String image : affected) {
                trees.replan(image, tx);
            }
            tx.afterCommit(() -> metrics.joinGroups.record(joining.size()));
            return null;
        });
    }

    /**
     * The replies the hosts would get for their last reports, without noting a heartbeat; a host
     * that is failed, or whose report asks for memberships it does not have (an image registered
     * since), maps to null: its report must be applied as a heartbeat. Unknown hosts are left out.
     * Lock held.
     */
    Map<String, HeartbeatReply> currentReplies(final Map<String, HeartbeatRequest> reports) {
        Map<String, HeartbeatReply> out = new java.util.HashMap<>();
        for (Map.Entry<String, HeartbeatRequest> e : reports.entrySet()) {
            String hostId = e.getKey();
            HostRecord host = state.hosts.get(hostId);
            if (host == null) {
                continue;
            }
            Map<String, HeartbeatRequest.ImageReport> reported = reported(e.getValue());
            if (host.failed() || !state.membership.getOrDefault(hostId, Set.of()).equals(wantedImages(reported))) {
                out.put(hostId, null);
                continue;
            }
            Map<String, HeartbeatReply.Placement> placements = new java.util.TreeMap<>();
            for (String image : reported.keySet()) {
                placements.put(image, trees.placement(hostId, image));
            }
            out.put(hostId, new HeartbeatReply(hostId, state.config.heartbeatInterval().toMillis(), placements));
        }
        return out;
    }

    private static Map<String, HeartbeatRequest.ImageReport> reported(final HeartbeatRequest request) {
        return request.images() == null ? Map.of() : request.images();
    }

    /** The reported images this manager knows; a host serves only those. Lock held. */
    private Set<String> wantedImages(final Map<String, HeartbeatRequest.ImageReport> reported) {
        Set<String> wanted = new LinkedHashSet<>();
        for (String image : reported.keySet()) {
            if (state.images.containsKey(image)) {
                wanted.add(image);
            }
        }
        return wanted;
    }
}
