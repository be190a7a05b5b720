package dev.virtman.manager;

import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.tree.Locality;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The hosts: registration (a sign of life too), decommissioning, and their status. */
final class HostRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(HostRegistry.class);
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._-]{0,64}");

    private final ManagerState state;
    private final TreeService trees;
    private final FailureDetector detector;
    private final java.util.function.IntConsumer groupSizes;
    private final GroupCombiner<Registration> registrations;

    HostRegistry(final ManagerState state, final TreeService trees, final FailureDetector detector,
                 final java.util.function.IntConsumer groupSizes) {
        this.state = state;
        this.trees = trees;
        this.detector = detector;
        this.groupSizes = groupSizes;
        this.registrations = new GroupCombiner<>(state, this::applyRegistrations);
    }

    /** See {@link Manager#registerHost}. */
    HostRegistered register(final String hostId, final String address, final Labels labels) {
        requireHostId(hostId, "hostId");
        state.config.admission().hostNetworks().requireHostAddress(address);
        Labels l = labels == null ? Labels.NONE : labels;
        requireLabel("labels.rack", l.rack());
        requireLabel("labels.zone", l.zone());
        return registrations.submit(new Registration(hostId, address, new Locality(l.rack(), l.zone())));
    }

    /**
     * Applies the registrations waiting for the lock, as one group, for whoever holds it (the
     * join combiner before each of its groups). Lock held.
     */
    void applyQueuedRegistrations() {
        registrations.drainQueued();
    }

    /** A checked registration waiting for its group; the result says whether the host is new. */
    private static final class Registration extends GroupCombiner.Pending<HostRegistered> {
        final String hostId;
        final String address;
        final Locality locality;

        Registration(final String hostId, final String address, final Locality locality) {
            this.hostId = hostId;
            this.address = address;
            this.locality = locality;
        }
    }

    /**
     * Registrations queued behind the lock, as one transaction: one copy of the host map, one
     * commit. An enrolment wave of thousands of agents so costs a few commits and lock hand-offs
     * instead of one of each per host (docs/manager.md, "Registrations commit in groups"). Every
     * registration was checked before it was queued, so only the commit can fail, and then it
     * fails the whole group: nobody is told "registered" before the commit that records it. Each
     * registration's reply (the host's status) is built here too, so no registration passes
     * through the lock a second time. Lock held.
     */
    private void applyRegistrations(final List<Registration> group) {
        List<Boolean> fresh = state.transact(tx -> {
            // An agent whose registration was lost (OS crash) gets 404 on its next heartbeat and
            // registers again, so registrations need not wait for a disk sync.
            tx.change.rebuildable();
            state.hosts = ManagerState.copy(state.hosts);
            List<Boolean> isNew = new ArrayList<>(group.size());
            for (Registration r : group) {
                HostRecord old = state.hosts.get(r.hostId);
                HostRecord host = old == null
                        ? new HostRecord(r.hostId, r.address, r.locality, false, state.now(), state.nextSeq++)
                        : new HostRecord(r.hostId, r.address, r.locality, false, old.registeredAt(), old.seq());
                state.hosts.put(r.hostId, host);
                tx.change.putHost(host);
                if (old != null && old.failed()) {
                    trees.replanFor(r.hostId, tx);
                }
                isNew.add(old == null);
                tx.afterCommit(() -> {
                    // A new host's liveness clock starts with its first heartbeat or stream: until
                    // then it is in no tree, so failing it would move nobody and only cost a commit
                    // (a 10,000-host enrolment wave registers faster than it opens its streams).
                    if (old != null) {
                        detector.markSeen(r.hostId);
                    }
                    LOG.info("{} host {} at {} (rack '{}', zone '{}')", old == null ? "registered" : "re-registered",
                            r.hostId, r.address, r.locality.rack(), r.locality.zone());
                });
            }
            tx.afterCommit(() -> groupSizes.accept(group.size()));
            return isNew;
        });
        for (int i = 0; i < group.size(); i++) {
            Registration r = group.get(i);
            r.result.complete(new HostRegistered(fresh.get(i), status(state.hosts.get(r.hostId))));
        }
    }

    /** Removes a host for good (decommission): it leaves every tree, its children are re-parented. */
    void remove(final String hostId) {
        synchronized (state) {
            state.transact(tx -> {
                state.requireHost(hostId);
                Set<String> served = state.membership.getOrDefault(hostId, Set.of());
                state.hosts = ManagerState.copy(state.hosts);
                state.hosts.remove(hostId);
                state.membership = ManagerState.copy(state.membership);
                state.membership.remove(hostId);
                for (String image : served) {
                    trees.replan(image, tx);
                }
                tx.change.deleteHost(hostId);
                tx.afterCommit(() -> {
                    state.liveness.remove(hostId);
                    LOG.info("removed host {}", hostId);
                });
                return null;
            });
        }
    }

    List<HostStatus> hosts() {
        synchronized (state) {
            return state.hosts.values().stream().map(this::status).toList();
        }
    }

    HostStatus host(final String hostId) {
        synchronized (state) {
            return status(state.requireHost(hostId));
        }
    }

    private HostStatus status(final HostRecord h) {
        Liveness live = state.liveness.get(h.hostId());
        long now = state.clock.millis();
        String status = h.failed() ? "failed" : detector.suspect(h.hostId(), now) ? "suspect" : "alive";
        long ago = live == null || !live.heardSinceStart ? -1 : now - live.lastSeenMillis;
        List<String> served = new ArrayList<>();
        state.trees.forEach((image, tree) -> {
            if (tree.contains(h.hostId())) {
                served.add(image);
            }
        });
        served.sort(null);
        return new HostStatus(h, status, ago, served);
    }

    static void requireHostId(final String hostId, final String field) {
        if (hostId == null || !TargetNames.HOST_ID.matcher(hostId).matches()) {
            throw ManagerException.invalid(field + " must match " + TargetNames.HOST_ID.pattern()
                    + " (it becomes part of an iSCSI name), got " + InputRules.quoted(hostId));
        }
    }

    private static void requireLabel(final String field, final String value) {
        if (value != null && !LABEL.matcher(value).matches()) {
            throw ManagerException.invalid(field + " must match " + LABEL.pattern() + ", got " + InputRules.quoted(value));
        }
    }
}
