package dev.virtman.manager.volume;

import dev.virtman.manager.store.EtcdJson;
import dev.virtman.manager.store.EtcdKeyspace;
import dev.virtman.manager.store.StoreException;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Volumes in etcd, one key per volume ({@code volumes/ID}), each write one fenced transaction
 * (see {@link EtcdKeyspace}). The value holds the volume's CHAP secret, as {@code volumes.db}
 * does: etcd must be reachable by the managers only (docs/manager.md).
 */
public final class EtcdVolumeStore implements VolumeStore {
    private static final String VOLUMES = "volumes/";

    record Value(String id, String name, String imageId, String hostId, long sizeBytes, String state,
                 String chapUser, String chapSecret, long createdAt) { }

    private final EtcdKeyspace etcd;

    public EtcdVolumeStore(final EtcdKeyspace etcd) {
        this.etcd = etcd;
    }

    @Override
    public void insert(final VolumeRecord v) {
        if (!etcd.txn(List.of(new Cmp(etcd.key(VOLUMES + v.id()), Cmp.Op.EQUAL, CmpTarget.createRevision(0))),
                List.of(put(v)), "store volume " + v.id())) {
            throw new StoreException("cannot store volume " + v.id() + ": it exists", null);
        }
    }

    @Override
    public void update(final VolumeRecord v) {
        // like SQLite's UPDATE: a volume that is gone stays gone
        etcd.txn(List.of(new Cmp(etcd.key(VOLUMES + v.id()), Cmp.Op.GREATER, CmpTarget.createRevision(0))),
                List.of(put(v)), "update volume " + v.id());
    }

    @Override
    public void delete(final String id) {
        etcd.txn(List.of(), List.of(new EtcdKeyspace.Write(etcd.key(VOLUMES + id), null)), "delete volume " + id);
    }

    @Override
    public Optional<VolumeRecord> find(final String id) {
        return etcd.get(VOLUMES + id).map(EtcdVolumeStore::record);
    }

    @Override
    public List<VolumeRecord> all() {
        List<VolumeRecord> out = new ArrayList<>();
        for (KeyValue kv : etcd.range(VOLUMES)) {
            out.add(record(kv));
        }
        out.sort(Comparator.comparing(VolumeRecord::createdAt).thenComparing(VolumeRecord::id));
        return out;
    }

    private EtcdKeyspace.Write put(final VolumeRecord v) {
        return new EtcdKeyspace.Write(etcd.key(VOLUMES + v.id()), EtcdJson.write(new Value(v.id(), v.name(),
                v.imageId(), v.hostId(), v.sizeBytes(), v.state().name(), v.chapUser(), v.chapSecret(),
                v.createdAt().toEpochMilli())));
    }

    private static VolumeRecord record(final KeyValue kv) {
        Value v = EtcdJson.read(kv, Value.class);
        return new VolumeRecord(v.id(), v.name(), v.imageId(), v.hostId(), v.sizeBytes(), VolumeState.valueOf(v.state()),
                v.chapUser(), v.chapSecret(), Instant.ofEpochMilli(v.createdAt()));
    }

    @Override
    public void close() {
        // the shared keyspace is closed by its backend
    }
}
