package dev.virtman.manager.store;

import java.nio.file.Path;

/**
 * Where the manager keeps its images, hosts, trees and boot profiles: the state {@code
 * ManagerState} holds in memory and rebuilds from {@link #load()} at start-up.
 *
 * <p><b>The transactional unit is one {@link StateChange}</b>: the writes of one manager
 * transaction (a registration, a heartbeat's joins and re-plans, a failure pass), committed all or
 * nothing. A commit that fails throws {@link StoreException} and leaves the stored state as it
 * was; the manager then restores its memory, so the two never disagree. Two implementations:
 * {@link SqliteStateStore} (embedded, one file, the default) and {@link EtcdStateStore} (several
 * managers on one etcd cluster, writes fenced by the leader's election key). Both pass the same
 * contract suite ({@code StateBackendContract}).
 *
 * <p>What each implementation must guarantee: an image id or name is never stored twice (such a
 * change fails whole); deleting an image deletes its tree and boot profile; putting a tree
 * replaces the image's whole tree; hosts load in registration ({@code seq}) order, images in
 * registration-time order; times round-trip at millisecond precision.
 */
public interface StateStore extends AutoCloseable {

    /** Reads everything, as one consistent snapshot. */
    StoredState load();

    /** Writes every operation of {@code change} atomically, or throws and writes nothing. */
    void commit(StateChange change);

    @Override
    void close();

    /** Opens (creating if needed) the embedded SQLite store in {@code file}. */
    static StateStore open(final Path file) {
        return SqliteStateStore.open(file);
    }
}
