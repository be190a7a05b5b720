package dev.virtman.manager.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.VmBoard;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.model.ManifestSummary;
import dev.virtman.manager.store.StateChange;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.store.StoreException;
import dev.virtman.manager.store.StoredState;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.volume.VolumeRecord;
import dev.virtman.manager.volume.VolumeState;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link StateBackend} must do, run against each implementation (SQLite in
 * {@link SqliteBackendTest}, real etcd processes in {@code EtcdBackendTest}): round trips of every
 * record, atomic commits (a change that fails stores nothing), cascades, ordering, and state
 * surviving a reopen.
 */
abstract class StateBackendContract {

    static final Instant T0 = Instant.ofEpochMilli(1_765_000_000_123L);
    private final List<StateBackend> opened = new ArrayList<>();

    /** A backend on this test's storage: the same storage on every call within one test. */
    protected abstract StateBackend openOnSameStorage();

    protected final StateBackend open() {
        StateBackend backend = openOnSameStorage();
        opened.add(backend);
        return backend;
    }

    /** Closes {@code backend} as the manager does: each store by its user, then the backend. */
    protected static void close(final StateBackend backend) {
        backend.state().close();
        backend.volumes().close();
        backend.credentials().close();
        backend.close();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(b -> {
            try {
                close(b);
            } catch (RuntimeException alreadyClosed) {
                // a test closed it to reopen the storage
            }
        });
    }

    static ImageRecord image(final String id, final String name, final int minute) {
        return new ImageRecord(id, name, "/images/" + name + ".raw",
                new ManifestSummary(id, 1L << 30, 65_536, 16_384, "manifests/" + id),
                T0.plusSeconds(60L * minute));
    }

    static ImageRecord glanceImage(final String id, final String name) {
        return new ImageRecord(id, name, "/state/images/" + id, new ManifestSummary(id, 4096, 4096, 1, "manifests/" + id),
                T0, new GlanceOrigin("http://glance:9292", "g-1", "cirros", "raw", "sha512", "ab", "cd", "cirros", 3));
    }

    static HostRecord host(final String id, final long seq) {
        return new HostRecord(id, "10.0.0." + (seq + 1) + ":3260", new Locality("r" + seq, "z1"), false,
                T0.plusMillis(seq), seq);
    }

    static String id(final char c) {
        return String.valueOf(c).repeat(64);
    }

    @Test
    void anEmptyStoreLoadsNothing() {
        StoredState s = open().state().load();
        assertThat(s.images()).isEmpty();
        assertThat(s.hosts()).isEmpty();
        assertThat(s.trees()).isEmpty();
        assertThat(s.profiles()).isEmpty();
        assertThat(open().volumes().all()).isEmpty();
        assertThat(open().credentials().load()).isEmpty();
    }

    @Test
    void everyRecordRoundTripsAndSurvivesAReopen() {
        StateBackend first = open();
        ImageRecord a = image(id('a'), "debian12", 2);
        ImageRecord b = glanceImage(id('b'), "cirros.v3");
        DistributionTree tree = DistributionTree.fromEdges(List.of(new DistributionTree.Edge("h1", DistributionTree.SOURCE),
                new DistributionTree.Edge("h2", "h1"), new DistributionTree.Edge("h3", "h1")));
        BootProfile profile = new BootProfile(a.id(), new int[] {5, 1, 9}, "h1", T0.plusSeconds(5));
        first.state().commit(new StateChange().putImage(a).putImage(b)
                .putHost(host("h3", 2)).putHost(host("h1", 0)).putHost(host("h2", 1).withFailed(true))
                .putTree(a.id(), tree).putProfile(profile));
        close(first);

        StoredState s = open().state().load();
        assertThat(s.images()).containsExactly(b, a); // registration time order
        assertThat(s.hosts()).containsExactly(host("h1", 0), host("h2", 1).withFailed(true), host("h3", 2));
        assertThat(s.trees()).containsEntry(a.id(), tree);
        assertThat(s.trees().getOrDefault(b.id(), DistributionTree.empty()).edges()).isEmpty();
        assertThat(s.profiles()).containsOnlyKeys(a.id());
        BootProfile loaded = s.profiles().get(a.id());
        assertThat(loaded.chunks()).containsExactly(5, 1, 9);
        assertThat(loaded.recordedBy()).isEqualTo("h1");
        assertThat(loaded.recordedAt()).isEqualTo(profile.recordedAt());
    }

    @Test
    void aChangeThatFailsStoresNothing() {
        StateStore store = open().state();
        ImageRecord a = image(id('a'), "debian12", 0);
        store.commit(new StateChange().putImage(a));
        assertThatThrownBy(() -> store.commit(new StateChange().putHost(host("h1", 0)).putImage(a)))
                .isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> store.commit(new StateChange().putHost(host("h2", 1))
                .putImage(image(id('c'), "debian12", 1))))
                .as("another image under a taken name").isInstanceOf(StoreException.class);
        StoredState s = store.load();
        assertThat(s.images()).containsExactly(a);
        assertThat(s.hosts()).isEmpty();
    }

    @Test
    void deletingAnImageDeletesItsTreeAndProfileAndFreesItsName() {
        StateStore store = open().state();
        ImageRecord a = image(id('a'), "debian12", 0);
        store.commit(new StateChange().putImage(a).putHost(host("h1", 0))
                .putTree(a.id(), DistributionTree.fromEdges(List.of(new DistributionTree.Edge("h1", DistributionTree.SOURCE))))
                .putProfile(new BootProfile(a.id(), new int[] {1}, null, T0)));
        store.commit(new StateChange().deleteImage(a.id()));
        StoredState s = store.load();
        assertThat(s.images()).isEmpty();
        assertThat(s.trees()).doesNotContainKey(a.id());
        assertThat(s.profiles()).isEmpty();
        assertThat(s.hosts()).containsExactly(host("h1", 0));

        ImageRecord again = image(id('d'), "debian12", 1);
        store.commit(new StateChange().putImage(again));
        assertThat(store.load().images()).containsExactly(again);
    }

    @Test
    void aTreeIsReplacedWholeAndHostsAreReplacedAndDeleted() {
        StateStore store = open().state();
        ImageRecord a = image(id('a'), "debian12", 0);
        store.commit(new StateChange().putImage(a).putHost(host("h1", 0)).putHost(host("h2", 1))
                .putTree(a.id(), DistributionTree.fromEdges(List.of(new DistributionTree.Edge("h1", DistributionTree.SOURCE),
                        new DistributionTree.Edge("h2", "h1")))));
        DistributionTree spliced = DistributionTree.fromEdges(List.of(new DistributionTree.Edge("h2", DistributionTree.SOURCE)));
        store.commit(new StateChange().rebuildable().putHost(host("h1", 0).withFailed(true)).putTree(a.id(), spliced));
        store.commit(new StateChange().deleteHost("h1"));
        StoredState s = store.load();
        assertThat(s.trees()).containsEntry(a.id(), spliced);
        assertThat(s.hosts()).containsExactly(host("h2", 1));
        store.commit(new StateChange()); // empty: nothing to do
        assertThat(store.load().hosts()).containsExactly(host("h2", 1));
    }

    /**
     * A tree keeps its edges and their attach order through any sequence of changes: hosts join
     * at the end and in the middle, leave, move to another parent, and the order is shuffled
     * (the etcd store writes only changed keys and keeps the order by ranks; SQLite rewrites the
     * tree). Every step is checked from a store reopened on the same storage.
     */
    @Test
    void aTreeKeepsItsAttachOrderThroughJoinsLeavesMovesAndReorders() {
        StateStore store = open().state();
        ImageRecord a = image(id('a'), "debian12", 0);
        store.commit(new StateChange().putImage(a));
        java.util.Random random = new java.util.Random(13);
        List<String> order = new ArrayList<>();
        Map<String, String> parents = new java.util.HashMap<>();
        int next = 0;
        for (int step = 0; step < 24; step++) {
            int dice = random.nextInt(10);
            if (dice < 4 || order.size() < 3) {                       // joins, at the end or anywhere
                for (int j = 0; j < 1 + random.nextInt(4); j++) {
                    String h = "h" + next++;
                    order.add(dice < 2 ? order.size() : random.nextInt(order.size() + 1), h);
                }
            } else if (dice < 6) {                                    // leaves
                order.remove(random.nextInt(order.size()));
            } else if (dice < 8) {                                    // a host moves to the end
                order.add(order.remove(random.nextInt(order.size())));
            } else if (dice < 9) {
                java.util.Collections.shuffle(order, random);
            }                                                         // else: only parents change
            List<DistributionTree.Edge> edges = new ArrayList<>();
            for (int i = 0; i < order.size(); i++) {
                String parent = i == 0 || random.nextInt(3) == 0 ? DistributionTree.SOURCE
                        : order.get(random.nextInt(i));
                if (random.nextInt(4) != 0 && parents.containsKey(order.get(i))
                        && (DistributionTree.SOURCE.equals(parents.get(order.get(i)))
                        || order.subList(0, i).contains(parents.get(order.get(i))))) {
                    parent = parents.get(order.get(i)); // mostly keep the parent
                }
                parents.put(order.get(i), parent);
                edges.add(new DistributionTree.Edge(order.get(i), parent));
            }
            DistributionTree tree = DistributionTree.fromEdges(edges);
            store.commit(new StateChange().rebuildable().putTree(a.id(), tree));
            assertThat(open().state().load().trees().get(a.id()).edges()).as("step %d", step)
                    .containsExactlyElementsOf(tree.edges());
        }
        assertThat(store.load().trees().get(a.id()).edges()).isEqualTo(open().state().load().trees().get(a.id()).edges());
    }

    @Test
    void volumesRoundTripUpdateAndDelete() {
        StateBackend backend = open();
        VolumeRecord v1 = new VolumeRecord("v1", "data", id('a'), null, 1L << 30, VolumeState.PENDING, "u1", "s3cret1",
                T0.plusSeconds(2));
        VolumeRecord v2 = new VolumeRecord("v2", null, null, "h1", 4096, VolumeState.CREATING, "u2", "s3cret2", T0);
        backend.volumes().insert(v1);
        backend.volumes().insert(v2);
        assertThatThrownBy(() -> backend.volumes().insert(v1)).isInstanceOf(StoreException.class);
        VolumeRecord placed = new VolumeRecord("v1", "data", id('a'), "h2", 1L << 30, VolumeState.CREATING, "u1",
                "s3cret1", T0.plusSeconds(2));
        backend.volumes().update(placed);
        close(backend);

        StateBackend again = open();
        assertThat(again.volumes().all()).containsExactly(v2, placed);
        assertThat(again.volumes().find("v1")).contains(placed);
        assertThat(again.volumes().find("v3")).isEmpty();
        again.volumes().delete("v2");
        again.volumes().delete("v2"); // deleting twice is harmless
        assertThat(again.volumes().all()).containsExactly(placed);
    }

    @Test
    void credentialsAreIssuedRotatedAndRevoked() {
        StateBackend backend = open();
        backend.credentials().put("h1", "hash-1", T0);
        backend.credentials().put("h2", "hash-2", T0.plusSeconds(1));
        backend.credentials().put("h1", "hash-1b", T0.plusSeconds(2));
        close(backend);

        StateBackend again = open();
        assertThat(again.credentials().load()).containsExactly(Map.entry("h2", "hash-2"), Map.entry("h1", "hash-1b"));
        again.credentials().delete("h2");
        again.credentials().delete("nobody");
        assertThat(again.credentials().load()).containsExactly(Map.entry("h1", "hash-1b"));
    }

    static VmOrder order(final String name, final String desired) {
        return new VmOrder(name, id('a'), "/boot/vmlinuz", "/boot/initrd", "console=ttyS0", 256, "login:", 60, desired);
    }

    @Test
    void vmOrdersKeepTheirPlaceWhenReplacedAndSurviveAReopen() {
        StateBackend backend = open();
        backend.vmOrders().put("h1", order("web-2", VmOrder.RUNNING));
        backend.vmOrders().put("h1", order("web-1", VmOrder.RUNNING));
        backend.vmOrders().put("h2", order("db", VmOrder.STOPPED));
        backend.vmOrders().put("h1", order("web-2", VmOrder.DESTROYED));
        VmOrder bare = new VmOrder("bare", id('b'), null, null, null, 64, "up", 5, VmOrder.RUNNING);
        backend.vmOrders().put("h3", bare);
        close(backend);

        StateBackend again = open();
        Map<String, List<VmOrder>> all = again.vmOrders().all();
        assertThat(all).containsOnlyKeys("h1", "h2", "h3");
        assertThat(all.get("h1")).containsExactly(order("web-2", VmOrder.DESTROYED), order("web-1", VmOrder.RUNNING));
        assertThat(all.get("h2")).containsExactly(order("db", VmOrder.STOPPED));
        assertThat(all.get("h3")).containsExactly(bare);
    }

    @Test
    void vmOrdersAreDeletedOneByOneOrPerHost() {
        StateBackend backend = open();
        backend.vmOrders().put("h1", order("a", VmOrder.RUNNING));
        backend.vmOrders().put("h1", order("b", VmOrder.RUNNING));
        backend.vmOrders().put("h1.x", order("c", VmOrder.RUNNING)); // a host id that extends another
        backend.vmOrders().put("h2", order("a", VmOrder.RUNNING));
        backend.vmOrders().delete("h1", "a");
        backend.vmOrders().delete("h1", "nothing"); // harmless
        assertThat(backend.vmOrders().all().get("h1")).containsExactly(order("b", VmOrder.RUNNING));
        backend.vmOrders().forget("h1");
        backend.vmOrders().forget("nobody");
        assertThat(backend.vmOrders().all()).containsOnlyKeys("h1.x", "h2");
        assertThat(backend.vmOrders().all().get("h2")).containsExactly(order("a", VmOrder.RUNNING));
    }

    @Test
    void aVmBoardOnTheSameStorageSeesEveryOrder() {
        StateBackend first = open();
        VmBoard board = new VmBoard(InstantSource.system(), first.vmOrders());
        board.order("h1", order("web", VmOrder.RUNNING));
        board.order("h1", order("gone", VmOrder.RUNNING));
        board.destroy("h1", "gone");
        close(first);

        // what a restarted manager, or a newly elected leader, hands the agent at its first sync
        VmBoard next = new VmBoard(InstantSource.system(), open().vmOrders());
        assertThat(next.sync("h1", new VmSyncRequest(List.of(), Map.of())).orders())
                .containsExactly(order("web", VmOrder.RUNNING));
        assertThat(open().vmOrders().all().get("h1")).as("the destroyed order, no longer reported, is dropped")
                .containsExactly(order("web", VmOrder.RUNNING));
    }
}
