package dev.virtman.manager.store;

import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.model.ManifestSummary;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The manager's images, hosts, trees and boot profiles in etcd, one key per record:
 * {@code images/ID}, {@code image-names/NAME} (holds the id; keeps names unique like SQLite's
 * UNIQUE column), {@code hosts/ID}, {@code trees/IMAGE} (the whole tree's edges in attach order,
 * replaced whole), {@code profiles/IMAGE}.
 *
 * <p>One {@link StateChange} is one etcd transaction ({@link EtcdKeyspace#txn}, fenced by the
 * leader's election key). Writes to one key within a change are coalesced (the last wins), since
 * etcd refuses a transaction that puts a key twice. A new image's id and name must not exist
 * (compared in the same transaction), so a duplicate fails the whole change. etcd limits a
 * transaction to {@code --max-txn-ops} operations (default 128) and {@code --max-request-bytes}
 * (1.5 MiB): docs/manager.md says what to run etcd with. {@link StateChange#rebuildable()} makes
 * no difference: every etcd commit is replicated to a quorum before it returns.
 */
public final class EtcdStateStore implements StateStore {

    private static final String IMAGES = "images/";
    private static final String NAMES = "image-names/";
    private static final String HOSTS = "hosts/";
    private static final String TREES = "trees/";
    private static final String PROFILES = "profiles/";

    record ImageValue(String id, String name, String path, String digest, long sizeBytes, int chunkSize,
                      long chunkCount, String manifestRef, long registeredAt, GlanceOrigin glance) { }

    record HostValue(String id, String address, String rack, String zone, boolean failed, long registeredAt,
                     long seq) { }

    record TreeValue(List<String[]> edges) { }

    record ProfileValue(String imageId, int[] chunks, String recordedBy, long recordedAt) { }

    private final EtcdKeyspace etcd;

    public EtcdStateStore(final EtcdKeyspace etcd) {
        this.etcd = etcd;
    }

    @Override
    public StoredState load() {
        List<ImageRecord> images = new ArrayList<>();
        List<HostRecord> hosts = new ArrayList<>();
        Map<String, DistributionTree> trees = new HashMap<>();
        Map<String, BootProfile> profiles = new HashMap<>();
        for (KeyValue kv : etcd.all()) {
            String path = etcd.path(kv.getKey());
            if (path.startsWith(IMAGES)) {
                ImageValue v = EtcdJson.read(kv, ImageValue.class);
                images.add(new ImageRecord(v.id(), v.name(), v.path(), new ManifestSummary(v.digest(), v.sizeBytes(),
                        v.chunkSize(), v.chunkCount(), v.manifestRef()), Instant.ofEpochMilli(v.registeredAt()),
                        v.glance()));
            } else if (path.startsWith(HOSTS)) {
                HostValue v = EtcdJson.read(kv, HostValue.class);
                hosts.add(new HostRecord(v.id(), v.address(), new Locality(v.rack(), v.zone()), v.failed(),
                        Instant.ofEpochMilli(v.registeredAt()), v.seq()));
            } else if (path.startsWith(TREES)) {
                List<DistributionTree.Edge> edges = new ArrayList<>();
                for (String[] e : EtcdJson.read(kv, TreeValue.class).edges()) {
                    edges.add(new DistributionTree.Edge(e[0], e[1]));
                }
                trees.put(path.substring(TREES.length()), DistributionTree.fromEdges(edges));
            } else if (path.startsWith(PROFILES)) {
                ProfileValue v = EtcdJson.read(kv, ProfileValue.class);
                profiles.put(v.imageId(), new BootProfile(v.imageId(), v.chunks(), v.recordedBy(),
                        Instant.ofEpochMilli(v.recordedAt())));
            }
        }
        images.sort(Comparator.comparing(ImageRecord::registeredAt).thenComparing(ImageRecord::id));
        hosts.sort(Comparator.comparingLong(HostRecord::seq));
        for (ImageRecord i : images) {
            trees.putIfAbsent(i.id(), DistributionTree.empty());
        }
        return new StoredState(images, hosts, trees, profiles);
    }

    @Override
    public void commit(final StateChange change) {
        if (change.isEmpty()) {
            return;
        }
        // path -> value to put, or null to delete; the last write to a key wins
        Map<String, ByteSequence> writes = new LinkedHashMap<>();
        List<Cmp> compares = new ArrayList<>();
        for (StateChange.Op op : change.ops()) {
            switch (op) {
                case StateChange.PutImage(ImageRecord i) -> {
                    ManifestSummary m = i.manifest();
                    compares.add(absent(IMAGES + i.id()));
                    compares.add(absent(NAMES + i.name()));
                    writes.put(IMAGES + i.id(), EtcdJson.write(new ImageValue(i.id(), i.name(), i.path(), m.digest(),
                            m.sizeBytes(), m.chunkSize(), m.chunkCount(), m.manifestRef(),
                            i.registeredAt().toEpochMilli(), i.glance())));
                    writes.put(NAMES + i.name(), EtcdKeyspace.bytes(i.id()));
                }
                case StateChange.DeleteImage(String id) -> {
                    Optional<KeyValue> stored = etcd.get(IMAGES + id);
                    if (stored.isPresent()) {
                        // the name index goes with the image, as long as the image is still this one
                        compares.add(new Cmp(etcd.key(IMAGES + id), Cmp.Op.EQUAL,
                                CmpTarget.modRevision(stored.get().getModRevision())));
                        writes.put(NAMES + EtcdJson.read(stored.get(), ImageValue.class).name(), null);
                    }
                    writes.put(IMAGES + id, null);
                    writes.put(TREES + id, null);
                    writes.put(PROFILES + id, null);
                }
                case StateChange.PutHost(HostRecord h) -> writes.put(HOSTS + h.hostId(), EtcdJson.write(new HostValue(
                        h.hostId(), h.address(), h.locality().rack(), h.locality().zone(), h.failed(),
                        h.registeredAt().toEpochMilli(), h.seq())));
                case StateChange.DeleteHost(String id) -> writes.put(HOSTS + id, null);
                case StateChange.PutTree(String imageId, DistributionTree tree) -> {
                    List<String[]> edges = new ArrayList<>();
                    tree.edges().forEach(e -> edges.add(new String[] {e.hostId(), e.parentId()}));
                    writes.put(TREES + imageId, EtcdJson.write(new TreeValue(edges)));
                }
                case StateChange.PutProfile(BootProfile p) -> writes.put(PROFILES + p.imageId(), EtcdJson.write(
                        new ProfileValue(p.imageId(), p.chunks(), p.recordedBy(), p.recordedAt().toEpochMilli())));
            }
        }
        List<EtcdKeyspace.Write> ops = new ArrayList<>(writes.size());
        writes.forEach((path, value) -> ops.add(new EtcdKeyspace.Write(etcd.key(path), value)));
        if (!etcd.txn(compares, ops, "commit " + ops.size() + " writes")) {
            throw new StoreException("state change rolled back: an image with this id or name exists, or an image"
                    + " being deleted changed meanwhile", null);
        }
    }

    private Cmp absent(final String path) {
        return new Cmp(etcd.key(path), Cmp.Op.EQUAL, CmpTarget.createRevision(0));
    }

    @Override
    public void close() {
        // the keyspace (shared with the volume and credential stores) is closed by its backend
    }
}
