package dev.virtman.manager.backend;

import dev.virtman.testing.EtcdCluster;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.api.VmOrder;
import java.util.List;
import dev.virtman.manager.volume.VolumeState;
import dev.virtman.manager.volume.VolumeRecord;
import dev.virtman.manager.store.EtcdKeyspace;
import dev.virtman.manager.store.NotLeaderException;
import dev.virtman.manager.store.StateChange;
import dev.virtman.manager.store.StoreException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract on real etcd: one 3-member cluster of Debian's etcd-server for the class, each
 * test under its own key prefix (so tests start empty and a reopen sees the same keys).
 */
@Tag("interop")
class EtcdBackendTest extends StateBackendContract {

    @TempDir
    static Path dir;
    private static EtcdCluster etcd;
    private String prefix;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.start(3, dir);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void freshPrefix() {
        prefix = "/virtman-test/" + UUID.randomUUID() + "/";
    }

    @Test
    void oneMemberDownChangesNothingAndTwoDownRefuseWritesAsUnavailable() {
        StateBackend backend = open();
        ImageRecord a = image(id('a'), "debian12", 0);
        backend.state().commit(new StateChange().putImage(a));
        for (int member = 0; member < 3; member++) { // whichever member the client was talking to
            etcd.kill(member);
            try {
                long start = System.nanoTime();
                backend.state().commit(new StateChange().putHost(host("m" + member, member)));
                System.out.printf("write with member %d down: %d ms%n", member, (System.nanoTime() - start) / 1_000_000);
                assertThat(backend.state().load().hosts()).extracting(HostRecord::hostId).contains("m" + member);
            } finally {
                etcd.restart(member);
            }
        }
        etcd.kill(0);
        etcd.kill(1);
        try {
            assertThatThrownBy(() -> backend.state().commit(new StateChange().putHost(host("late", 9))))
                    .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.unavailable()).isTrue());
        } finally {
            etcd.restart(0);
            etcd.restart(1);
        }
        backend.state().commit(new StateChange().putHost(host("late", 9)));
        assertThat(backend.state().load().hosts()).extracting(HostRecord::hostId).contains("late");
    }

    @Test
    void vmOrderWritesAreFencedLikeEveryOtherWrite() {
        EtcdBackend backend = (EtcdBackend) open();
        backend.vmOrders().put("h1", order("web", VmOrder.RUNNING));
        backend.keyspace().fence(new EtcdKeyspace.Follower("http://127.0.0.1:1"));
        assertThatThrownBy(() -> backend.vmOrders().put("h1", order("web", VmOrder.STOPPED)))
                .isInstanceOfSatisfying(NotLeaderException.class, e -> assertThat(e.getMessage()).contains("127.0.0.1:1"));
        assertThatThrownBy(() -> backend.vmOrders().forget("h1")).isInstanceOf(NotLeaderException.class);
        // a leader whose election key is gone (a paused old leader): its write commits nothing
        backend.keyspace().fence(new EtcdKeyspace.Leader(backend.keyspace().key("leader/none"), 42));
        assertThatThrownBy(() -> backend.vmOrders().put("h1", order("web", VmOrder.DESTROYED)))
                .isInstanceOf(NotLeaderException.class);
        assertThatThrownBy(() -> backend.vmOrders().forget("h1")).isInstanceOf(NotLeaderException.class);
        assertThat(backend.vmOrders().all().get("h1")).containsExactly(order("web", VmOrder.RUNNING));
    }

    /**
     * Reads are serializable, so the one member left answers them: every store's reads work
     * without quorum, from a client that was talking to a member that died and from one opened
     * after (a gap once noted here did not reproduce: both answer within milliseconds).
     */
    @Test
    void everyReadAnswersWithoutQuorum() {
        StateBackend backend = open();
        backend.state().commit(new StateChange().putHost(host("q", 1)));
        backend.volumes().insert(new VolumeRecord("v1", null, null, "q", 4096, VolumeState.CREATING, "u", "s", T0));
        backend.credentials().put("q", "hash", T0);
        backend.vmOrders().put("q", order("web", VmOrder.RUNNING));
        for (int[] down : new int[][] {{0, 1}, {1, 2}}) {
            etcd.kill(down[0]);
            etcd.kill(down[1]);
            try {
                for (StateBackend b : List.of(backend, open())) {
                    assertThat(b.state().load().hosts()).extracting(HostRecord::hostId).containsExactly("q");
                    assertThat(b.volumes().all()).extracting(VolumeRecord::id).containsExactly("v1");
                    assertThat(b.volumes().find("v1")).isPresent();
                    assertThat(b.credentials().load()).containsKey("q");
                    assertThat(b.vmOrders().all()).containsKey("q");
                }
            } finally {
                etcd.restart(down[0]);
                etcd.restart(down[1]);
            }
        }
    }

    @Override
    protected StateBackend openOnSameStorage() {
        return EtcdBackend.connect(etcd.clientUrls(), prefix, EtcdBackend.TIMEOUT);
    }
}
