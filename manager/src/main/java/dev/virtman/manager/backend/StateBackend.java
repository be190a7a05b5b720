package dev.virtman.manager.backend;

import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.auth.HostCredentialStore;
import dev.virtman.manager.auth.SqliteCredentialStore;
import dev.virtman.manager.orders.SqliteVmOrderStore;
import dev.virtman.manager.orders.VmOrderStore;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.volume.SqliteVolumeStore;
import dev.virtman.manager.volume.VolumeStore;

/**
 * Everything the manager persists, behind one seam: images, hosts, trees and boot profiles
 * ({@link StateStore}, committed one {@code StateChange} at a time), volumes ({@link VolumeStore})
 * host credential hashes ({@link HostCredentialStore}) and VM orders ({@link VmOrderStore}; the
 * agents' VM reports stay in {@code VmBoard}'s memory: every sync re-sends them).
 *
 * <p>Two implementations pass one contract suite: {@link #sqlite} (three files in the state
 * directory; the embedded default, what {@code virtman boot} and a lone {@code virtman manager}
 * use) and {@link EtcdBackend} ({@code --etcd}: one etcd cluster shared by several managers).
 *
 * <p>The first three stores are handed out once and closed by their users ({@code Manager},
 * {@code VolumeService}, {@code Credentials}); {@link #close()} then closes the VM order store
 * and releases what they share (the etcd connection).
 */
public interface StateBackend extends AutoCloseable {

    StateStore state();

    VolumeStore volumes();

    HostCredentialStore credentials();

    /** Closed by {@link #close()}. */
    VmOrderStore vmOrders();

    /** For the start-up log line: where the state is. */
    String describe();

    @Override
    void close();

    /** Opens a backend for a manager whose state directory is {@code dir}. */
    @FunctionalInterface
    interface Opener {
        StateBackend open(StateDir dir);
    }

    /** The embedded default. */
    Opener SQLITE = StateBackend::sqlite;

    /** The embedded backend: {@code manager.db}, {@code volumes.db}, {@code credentials.db}, {@code vm-orders.db} in {@code dir}. */
    static StateBackend sqlite(final StateDir dir) {
        StateStore state = StateStore.open(dir.database());
        VolumeStore volumes;
        try {
            volumes = SqliteVolumeStore.open(dir.path().resolve(VolumeStore.FILE));
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
        HostCredentialStore credentials;
        try {
            credentials = SqliteCredentialStore.open(dir.path().resolve(HostCredentialStore.FILE));
        } catch (RuntimeException e) {
            volumes.close();
            state.close();
            throw e;
        }
        VmOrderStore vmOrders;
        try {
            vmOrders = SqliteVmOrderStore.open(dir.path().resolve(VmOrderStore.FILE));
        } catch (RuntimeException e) {
            credentials.close();
            volumes.close();
            state.close();
            throw e;
        }
        String where = "SQLite in " + dir.path();
        return new StateBackend() {
            @Override
            public StateStore state() {
                return state;
            }

            @Override
            public VolumeStore volumes() {
                return volumes;
            }

            @Override
            public HostCredentialStore credentials() {
                return credentials;
            }

            @Override
            public VmOrderStore vmOrders() {
                return vmOrders;
            }

            @Override
            public String describe() {
                return where;
            }

            @Override
            public void close() {
                vmOrders.close(); // the other stores are closed by their users
            }
        };
    }
}
