package dev.virtman.manager.orders;

import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.store.EtcdKeyspace;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VM orders in etcd, one key per order ({@code vm-orders/HOST/NAME}; neither a host id nor a VM
 * name may contain a slash), each write one fenced transaction ({@link EtcdKeyspace}). A put on
 * an existing key keeps the key's create revision, which is the placement order {@link #all()}
 * sorts by. Forgetting a host is one prefix delete, however many orders it had (a transaction
 * with one delete per key would exceed etcd's {@code --max-txn-ops}).
 */
public final class EtcdVmOrderStore implements VmOrderStore {
    static final String ORDERS = "vm-orders/";

    private final EtcdKeyspace etcd;

    public EtcdVmOrderStore(final EtcdKeyspace etcd) {
        this.etcd = etcd;
    }

    @Override
    public void put(final String hostId, final VmOrder order) {
        etcd.txn(List.of(), List.of(new EtcdKeyspace.Write(etcd.key(ORDERS + hostId + "/" + order.name()),
                ByteSequence.from(OrderValue.write(order)))), "store VM order " + order.name());
    }

    @Override
    public void delete(final String hostId, final String name) {
        etcd.txn(List.of(), List.of(new EtcdKeyspace.Write(etcd.key(ORDERS + hostId + "/" + name), null)),
                "delete VM order " + name);
    }

    @Override
    public void forget(final String hostId) {
        etcd.txn(List.of(), List.of(EtcdKeyspace.Write.deletePrefix(etcd.key(ORDERS + hostId + "/"))),
                "delete the VM orders of " + hostId);
    }

    @Override
    public Map<String, List<VmOrder>> all() {
        List<KeyValue> kvs = new ArrayList<>(etcd.range(ORDERS));
        kvs.sort(Comparator.comparingLong(KeyValue::getCreateRevision));
        Map<String, List<VmOrder>> out = new LinkedHashMap<>();
        for (KeyValue kv : kvs) {
            String path = etcd.path(kv.getKey());
            String host = path.substring(ORDERS.length(), path.lastIndexOf('/'));
            out.computeIfAbsent(host, k -> new ArrayList<>()).add(OrderValue.read(kv.getValue().getBytes(), path));
        }
        return out;
    }

    @Override
    public void close() {
        // the shared keyspace is closed by its backend
    }
}
