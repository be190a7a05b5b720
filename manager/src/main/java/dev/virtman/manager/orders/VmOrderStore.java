package dev.virtman.manager.orders;

import dev.virtman.manager.api.VmOrder;
import java.util.List;
import java.util.Map;

/**
 * Where the manager keeps VM orders ({@code PUT /v1/hosts/{id}/vms/{name}}), so a restarted
 * manager, or a new leader after a fail-over, still hands every agent its orders:
 * {@link SqliteVmOrderStore} in {@link #FILE} next to {@code manager.db}, or
 * {@link EtcdVmOrderStore} beside the rest of the state in etcd (writes fenced by the leader's
 * election key like every other etcd write). The agents' reports are not stored: they are
 * re-sent with every sync.
 *
 * <p>Every method is one atomic write or one consistent read; failures throw {@code
 * StoreException} (a follower's writes {@code NotLeaderException}).
 */
public interface VmOrderStore extends AutoCloseable {
    String FILE = "vm-orders.db";

    /** Places or replaces the order {@code order.name()} of {@code hostId}; a replaced order keeps its place. */
    void put(String hostId, VmOrder order);

    /** Drops one order (nothing if there is none). */
    void delete(String hostId, String name);

    /** Drops every order of {@code hostId}. */
    void forget(String hostId);

    /** Every host's orders, each host's in the order they were first placed. */
    Map<String, List<VmOrder>> all();

    @Override
    void close();
}
