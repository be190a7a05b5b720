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

    HostRegistry(final ManagerState state, final TreeService trees, final FailureDetector detector) {
        this.state = state;
        this.trees = trees;
        this.detector = detector;
    }

    /** See {@link Manager#registerHost}. */
    boolean register(final String hostId, final String address, final Labels labels) {
        requireHostId(hostId, "hostId");
        state.config.admission().hostNetworks().requireHostAddress(address);
        Labels l = labels == null ? Labels.NONE : labels;
        requireLabel("labels.rack", l.rack());
        requireLabel("labels.zone", l.zone());
        Locality locality = new Locality(l.rack(), l.zone());
        synchronized (state) {
            return state.transact(tx -> {
                // An agent whose registration was lost (OS crash) gets 404 on its next heartbeat and
                // registers again, so registrations need not wait for a disk sync.
                tx.change.rebuildable();
                HostRecord old = state.hosts.get(hostId);
                HostRecord host = old == null
                        ? new HostRecord(hostId, address, locality, false, state.now(), state.nextSeq++)
                        : new HostRecord(hostId, address, locality, false, old.registeredAt(), old.seq());
                state.hosts = ManagerState.copy(state.hosts);
                state.hosts.put(hostId, host);
                tx.change.putHost(host);
                if (old != null && old.failed()) {
                    trees.replanFor(hostId, tx);
                }
                tx.afterCommit(() -> {
                    // A new host's liveness clock starts with its first heartbeat or stream: until
                    // then it is in no tree, so failing it would move nobody and only cost a commit
                    // (a 10,000-host enrolment wave registers faster than it opens its streams).
                    if (old != null) {
                        detector.markSeen(hostId);
                    }
                    LOG.info("{} host {} at {} (rack '{}', zone '{}')", old == null ? "registered" : "re-registered",
                            hostId, address, locality.rack(), locality.zone());
                });
                return old == null;
            });
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
