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
 * UNIQUE column), {@code hosts/ID}, {@code tree-edges/IMAGE/HOST} (the host's parent and its
 * position in attach order), {@code profiles/IMAGE}.
 *
 * <p><b>A tree change writes only the edges it changed.</b> Until 2026-12-07 a tree was one key
 * ({@code trees/IMAGE}, still read, and deleted by the first write of that tree) rewritten whole
 * by every change: a 10,000-host join wave put one value of up to ~300 KB per join group, through
 * raft to every member's disk, holding the manager's lock meanwhile, and the wave ran at ~40
 * registrations/s (docs/benchmarks.md). Now a join group puts one small key per joiner. To diff,
 * the store remembers what etcd holds for each tree it wrote in the current leadership term
 * ({@link #known}); a tree it does not know (first write of a term, or after a commit whose
 * outcome is unknown) is read linearizably first. That memory cannot go stale: every write is
 * fenced by the leader's election key, so only this manager writes while its term lasts.
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
    /** The former layout: one key per tree, read and deleted on the tree's next write. */
    private static final String TREES = "trees/";
    private static final String EDGES = "tree-edges/";
    private static final String PROFILES = "profiles/";

    record ImageValue(String id, String name, String path, String digest, long sizeBytes, int chunkSize,
                      long chunkCount, String manifestRef, long registeredAt, GlanceOrigin glance) { }

    record HostValue(String id, String address, String rack, String zone, boolean failed, long registeredAt,
                     long seq) { }

    record TreeValue(List<String[]> edges) { }

    /** One host's place in a tree: its parent, and its rank in attach order ({@code tree-edges/IMAGE/HOST}). */
    record EdgeValue(String parent, long ord) { }

    record ProfileValue(String imageId, int[] chunks, String recordedBy, long recordedAt) { }

    private final EtcdKeyspace etcd;
    /**
     * Per image, the edges etcd holds as this store last wrote or read them, in attach order;
     * valid only within leadership term {@link #knownTerm}. Guarded by this.
     */
    private final Map<String, LinkedHashMap<String, EdgeValue>> known = new HashMap<>();
    private long knownTerm = Long.MIN_VALUE;

    public EtcdStateStore(final EtcdKeyspace etcd) {
        this.etcd = etcd;
    }

    @Override
    public StoredState load() {
        List<ImageRecord> images = new ArrayList<>();
        List<HostRecord> hosts = new ArrayList<>();
        Map<String, DistributionTree> trees = new HashMap<>();
        Map<String, BootProfile> profiles = new HashMap<>();
        Map<String, LinkedHashMap<String, EdgeValue>> edgeKeys = new HashMap<>();
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
            } else if (path.startsWith(EDGES)) {
                String rest = path.substring(EDGES.length());
                int slash = rest.indexOf('/');
                edgeKeys.computeIfAbsent(rest.substring(0, slash), k -> new LinkedHashMap<>())
                        .put(rest.substring(slash + 1), EtcdJson.read(kv, EdgeValue.class));
            } else if (path.startsWith(PROFILES)) {
                ProfileValue v = EtcdJson.read(kv, ProfileValue.class);
                profiles.put(v.imageId(), new BootProfile(v.imageId(), v.chunks(), v.recordedBy(),
                        Instant.ofEpochMilli(v.recordedAt())));
            }
        }
        // a tree written in the new layout replaces its former single key (both exist only if a
        // write of the new layout was interrupted, which cannot be: it deletes the old key in the same txn)
        edgeKeys.forEach((image, edges) -> trees.put(image, DistributionTree.fromEdges(inAttachOrder(edges))));
        images.sort(Comparator.comparing(ImageRecord::registeredAt).thenComparing(ImageRecord::id));
        hosts.sort(Comparator.comparingLong(HostRecord::seq));
        for (ImageRecord i : images) {
            trees.putIfAbsent(i.id(), DistributionTree.empty());
        }
        return new StoredState(images, hosts, trees, profiles);
    }

    /** Edges (host -> value) sorted by rank, ties by host id. */
    private static List<DistributionTree.Edge> inAttachOrder(final Map<String, EdgeValue> edges) {
        List<Map.Entry<String, EdgeValue>> sorted = new ArrayList<>(edges.entrySet());
        sorted.sort(Comparator.<Map.Entry<String, EdgeValue>>comparingLong(e -> e.getValue().ord())
                .thenComparing(Map.Entry::getKey));
        List<DistributionTree.Edge> out = new ArrayList<>(sorted.size());
        sorted.forEach(e -> out.add(new DistributionTree.Edge(e.getKey(), e.getValue().parent())));
        return out;
    }

    @Override
    public synchronized void commit(final StateChange change) {
        if (change.isEmpty()) {
            return;
        }
        long term = etcd.fence() instanceof EtcdKeyspace.Leader l ? l.createRevision() : 0;
        if (term != knownTerm) {
            known.clear();
            knownTerm = term;
        }
        // the edges each touched tree will hold once this change commits
        Map<String, LinkedHashMap<String, EdgeValue>> pending = new HashMap<>();
        boolean committed = false;
        try {
            committed = commit(change, pending);
        } finally {
            if (committed) {
                known.putAll(pending);
            } else {
                pending.keySet().forEach(known::remove); // the outcome may be unknown: read before the next diff
            }
        }
    }

    private boolean commit(final StateChange change, final Map<String, LinkedHashMap<String, EdgeValue>> pending) {
        // path -> value to put, or null to delete; the last write to a key wins
        Map<String, ByteSequence> writes = new LinkedHashMap<>();
        List<String> deletedTrees = new ArrayList<>();
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
                    pending.put(i.id(), new LinkedHashMap<>()); // no edges: an image's keys are deleted with it
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
                    // one range delete; etcd refuses a txn that also puts a key inside it
                    String edges = EDGES + id + "/";
                    writes.keySet().removeIf(p -> p.startsWith(edges));
                    deletedTrees.add(edges);
                    pending.put(id, new LinkedHashMap<>());
                }
                case StateChange.PutHost(HostRecord h) -> writes.put(HOSTS + h.hostId(), EtcdJson.write(new HostValue(
                        h.hostId(), h.address(), h.locality().rack(), h.locality().zone(), h.failed(),
                        h.registeredAt().toEpochMilli(), h.seq())));
                case StateChange.DeleteHost(String id) -> writes.put(HOSTS + id, null);
                case StateChange.PutTree(String imageId, DistributionTree tree) -> {
                    if (deletedTrees.contains(EDGES + imageId + "/")) {
                        throw new StoreException("a state change may not write the tree of an image it deletes", null);
                    }
                    pending.put(imageId, diffTree(imageId, tree, pending.get(imageId), writes));
                }
                case StateChange.PutProfile(BootProfile p) -> writes.put(PROFILES + p.imageId(), EtcdJson.write(
                        new ProfileValue(p.imageId(), p.chunks(), p.recordedBy(), p.recordedAt().toEpochMilli())));
            }
        }
        List<EtcdKeyspace.Write> ops = new ArrayList<>(writes.size() + deletedTrees.size());
        writes.forEach((path, value) -> ops.add(new EtcdKeyspace.Write(etcd.key(path), value)));
        deletedTrees.forEach(path -> ops.add(EtcdKeyspace.Write.deletePrefix(etcd.key(path))));
        if (!etcd.txn(compares, ops, "commit " + ops.size() + " writes")) {
            throw new StoreException("state change rolled back: an image with this id or name exists, or an image"
                    + " being deleted changed meanwhile", null);
        }
        return true;
    }

    /** Rank spacing: room for many hosts inserted between two neighbours before a renumbering. */
    static final long RANK_STEP = 1L << 24;

    /**
     * Adds to {@code writes} the edge keys that turn the stored tree ({@code before}, else what
     * this store knows, else read from etcd) into {@code tree}, and returns the edges stored
     * afterwards.
     *
     * <p>Attach order is kept by ranks with gaps. The planner's trees list their edges breadth
     * first, so a join lands in the middle of the order, not at its end: the hosts whose old
     * ranks form the longest increasing run (in the new order) keep them, and the others get
     * ranks spread between their kept neighbours, so a join, a leave or a subtree moved writes
     * only the hosts it concerns. Only when a gap has no room left are all ranks renumbered.
     */
    private LinkedHashMap<String, EdgeValue> diffTree(final String imageId, final DistributionTree tree,
                                                      final LinkedHashMap<String, EdgeValue> before,
                                                      final Map<String, ByteSequence> writes) {
        LinkedHashMap<String, EdgeValue> old = before != null ? before : known.get(imageId);
        String prefix = EDGES + imageId + "/";
        if (old == null) {
            old = new LinkedHashMap<>();
            for (KeyValue kv : etcd.rangeLinearizable(prefix)) {
                old.put(etcd.path(kv.getKey()).substring(prefix.length()), EtcdJson.read(kv, EdgeValue.class));
            }
            writes.put(TREES + imageId, null); // the former single key, if any, goes now
        }
        List<DistributionTree.Edge> edges = tree.edges();
        long[] ranks = ranks(edges, old);
        LinkedHashMap<String, EdgeValue> next = new LinkedHashMap<>();
        for (int i = 0; i < edges.size(); i++) {
            DistributionTree.Edge e = edges.get(i);
            EdgeValue was = old.get(e.hostId());
            EdgeValue now = was != null && was.ord() == ranks[i] && was.parent().equals(e.parentId()) ? was
                    : new EdgeValue(e.parentId(), ranks[i]);
            if (now != was) {
                writes.put(prefix + e.hostId(), EtcdJson.write(now));
            }
            next.put(e.hostId(), now);
        }
        for (String host : old.keySet()) {
            if (!next.containsKey(host)) {
                writes.put(prefix + host, null);
            }
        }
        return next;
    }

    /** Strictly increasing ranks for {@code edges}, keeping as many of {@code old}'s as possible. */
    static long[] ranks(final List<DistributionTree.Edge> edges, final Map<String, EdgeValue> old) {
        int n = edges.size();
        long[] ranks = new long[n];
        boolean[] kept = keptRanks(edges, old, ranks);
        int i = 0;
        while (i < n) {
            if (kept[i]) {
                i++;
                continue;
            }
            int j = i;
            while (j < n && !kept[j]) {
                j++;
            }
            // hosts i..j-1 need ranks between their kept neighbours
            int count = j - i;
            boolean hasLow = i > 0;
            boolean hasHigh = j < n;
            long step;
            long low;
            if (hasLow && hasHigh) {
                step = Math.min(RANK_STEP, (ranks[j] - ranks[i - 1]) / (count + 1));
                low = ranks[i - 1];
            } else if (hasLow) {
                step = RANK_STEP;
                low = ranks[i - 1];
            } else if (hasHigh) {
                step = RANK_STEP;
                low = ranks[j] - (count + 1) * RANK_STEP;
            } else {
                step = RANK_STEP;
                low = 0;
            }
            if (step < 1) { // no room left in this gap: renumber everything
                for (int k = 0; k < n; k++) {
                    ranks[k] = (k + 1) * RANK_STEP;
                }
                return ranks;
            }
            for (int k = i; k < j; k++) {
                ranks[k] = low + (k - i + 1) * step;
            }
            i = j;
        }
        return ranks;
    }

    /**
     * Marks the hosts whose old ranks form a longest strictly increasing subsequence in the new
     * order (patience sorting, n log n) and copies those ranks into {@code ranks}.
     */
    private static boolean[] keptRanks(final List<DistributionTree.Edge> edges, final Map<String, EdgeValue> old,
                                       final long[] ranks) {
        int n = edges.size();
        boolean[] kept = new boolean[n];
        int[] tails = new int[n];    // index of the smallest tail of an increasing run of each length
        int[] previous = new int[n];
        int length = 0;
        for (int i = 0; i < n; i++) {
            EdgeValue was = old.get(edges.get(i).hostId());
            if (was == null) {
                continue;
            }
            long r = was.ord();
            int lo = 0;
            int hi = length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (old.get(edges.get(tails[mid]).hostId()).ord() < r) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            previous[i] = lo > 0 ? tails[lo - 1] : -1;
            tails[lo] = i;
            if (lo == length) {
                length++;
            }
        }
        for (int i = length > 0 ? tails[length - 1] : -1; i >= 0; i = previous[i]) {
            kept[i] = true;
            ranks[i] = old.get(edges.get(i).hostId()).ord();
        }
        return kept;
    }

    private Cmp absent(final String path) {
        return new Cmp(etcd.key(path), Cmp.Op.EQUAL, CmpTarget.createRevision(0));
    }

    @Override
    public void close() {
        // the keyspace (shared with the volume and credential stores) is closed by its backend
    }
}
