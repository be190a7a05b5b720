package dev.virtman.manager;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.store.StateChange;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.store.StoreException;
import dev.virtman.manager.tree.DistributionTree;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The control plane's in-memory state, shared by the domain services ({@link ImageCatalog},
 * {@link HostRegistry}, {@link Heartbeats}, {@link FailureDetector}, {@link TreeService},
 * {@link BootProfiles}), and the one lock and transaction they all change it under.
 *
 * <p><b>Atomicity.</b> Every mutating operation runs under this object's lock as a
 * {@link Transaction}: it validates, updates the in-memory state while recording the same writes
 * in a {@link StateChange}, and commits that change to the {@link StateStore} as one database
 * transaction. If validation or the commit fails, the in-memory state is restored from a
 * {@link Snapshot} taken at the start, so a rejected request leaves nothing half-applied, in
 * memory or on disk. One lock for all services keeps a heartbeat's re-plan and a host's removal
 * from interleaving; the services only split the code, not the state.
 *
 * <p>Maps are replaced or copied, never shared mutably with a snapshot, so a snapshot is a set
 * of references. {@link #liveness} describes the outside world and is never rolled back.
 */
final class ManagerState {

    final ManagerConfig config;
    final InstantSource clock;
    /**
     * When a commit last failed because the store was unavailable (etcd without quorum), or
     * {@code Long.MIN_VALUE}. Lock held.
     */
    long storeUnavailableAtMillis = Long.MIN_VALUE;
    private final StateStore store;

    // Guarded by this.
    Map<String, ImageRecord> images = new LinkedHashMap<>();
    Map<String, HostRecord> hosts = new LinkedHashMap<>();
    Map<String, DistributionTree> trees = new HashMap<>();
    Map<String, List<String>> unplaced = new HashMap<>();
    Map<String, BootProfile> profiles = new HashMap<>();
    /** host -> images it asked to serve in its last heartbeat. */
    Map<String, Set<String>> membership = new HashMap<>();
    long nextSeq;
    /** Memory-only liveness per host. */
    final Map<String, Liveness> liveness = new HashMap<>();
    /** Hosts whose heartbeat replies may have changed, for the agents' streams. */
    final ReplyChanges replyChanges = new ReplyChanges();

    private Transaction current;

    ManagerState(final ManagerConfig config, final StateStore store, final InstantSource clock) {
        this.config = config;
        this.store = store;
        this.clock = clock;
    }

    /** Millisecond precision: what the store keeps, so a restart shows the same times. */
    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    static <K, V> Map<K, V> copy(final Map<K, V> map) {
        return map instanceof LinkedHashMap ? new LinkedHashMap<>(map) : new HashMap<>(map);
    }

    /** The host, or 404. Lock held. */
    HostRecord requireHost(final String hostId) {
        HostRecord host = hosts.get(hostId);
        if (host == null) {
            throw ManagerException.notFound("no host '" + hostId + "'; agents must register first (POST /v1/hosts)");
        }
        return host;
    }

    /** One mutating operation: its durable writes and what to do once they are committed. */
    static final class Transaction {
        final StateChange change = new StateChange();
        private final List<Runnable> afterCommit = new ArrayList<>();

        void afterCommit(final Runnable action) {
            afterCommit.add(action);
        }
    }

    /** Body of a transaction; may throw {@link ManagerException} to reject with no effect. */
    interface TransactionBody<T> {
        T run(Transaction tx);
    }

    /**
     * Runs {@code body} against the in-memory state, commits its writes, then runs its
     * after-commit actions. Nested calls (e.g. a re-plan inside a heartbeat) join the outer
     * transaction. Lock held.
     */
    <T> T transact(final TransactionBody<T> body) {
        if (current != null) {
            return body.run(current);
        }
        Snapshot before = new Snapshot();
        Transaction tx = new Transaction();
        current = tx;
        try {
            T result = body.run(tx);
            store.commit(tx.change);
            current = null;
            tx.afterCommit.forEach(Runnable::run);
            return result;
        } catch (RuntimeException e) {
            before.restore();
            if (e instanceof StoreException se && se.unavailable()) {
                storeUnavailableAtMillis = clock.millis();
            }
            throw e;
        } finally {
            current = null;
        }
    }

    void close() {
        store.close();
    }

    /** The in-memory state at the start of a transaction (maps are copy-on-write). */
    private final class Snapshot {
        private final Map<String, ImageRecord> images = ManagerState.this.images;
        private final Map<String, HostRecord> hosts = ManagerState.this.hosts;
        private final Map<String, DistributionTree> trees = ManagerState.this.trees;
        private final Map<String, List<String>> unplaced = ManagerState.this.unplaced;
        private final Map<String, BootProfile> profiles = ManagerState.this.profiles;
        private final Map<String, Set<String>> membership = ManagerState.this.membership;
        private final long nextSeq = ManagerState.this.nextSeq;

        void restore() {
            ManagerState.this.images = images;
            ManagerState.this.hosts = hosts;
            ManagerState.this.trees = trees;
            ManagerState.this.unplaced = unplaced;
            ManagerState.this.profiles = profiles;
            ManagerState.this.membership = membership;
            ManagerState.this.nextSeq = nextSeq;
        }
    }
}
