package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.api.VolumeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.testing.Await;
import dev.virtman.testing.BackgroundReads;
import dev.virtman.testing.EtcdCluster;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.ManagerMetricsScrape;
import dev.virtman.testing.Members;
import dev.virtman.testing.RandomFiles;
import dev.virtman.testing.VirtmanManagerProcess;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane survives the loss of any one machine (issue 13): 3 etcd members (Debian's
 * etcd-server on 127.0.0.20-22), 3 {@code virtman manager --etcd} processes, and simulated hosts
 * heartbeating the whole time (each host tries the managers in turn, as a client with several
 * manager URLs does, and stays with the one that accepts: the leader).
 *
 * <ul>
 *   <li>kill -9 the leader: another manager leads within 10 s; reads at the followers never fail;
 *       no host is failed (grace period); images, hosts, tree and volumes are unchanged;</li>
 *   <li>kill one etcd member: writes still work;</li>
 *   <li>kill a second: managers answer reads, writes get 503;</li>
 *   <li>restart both: writes resume, nothing lost.</li>
 * </ul>
 *
 * Simulated hosts (REST heartbeats), not agents with VMs: what this shows is the control plane.
 */
@Tag("interop")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HighAvailabilityTest {
    private static final int HOSTS = 12;
    private static final Duration HEARTBEAT = Duration.ofMillis(300);
    private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(2);
    private static final String DETECTOR_JUDGED = "virtman_detector_judged_timestamp_seconds";
    private static final Duration FAILOVER_BOUND = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private record Seen(String id, String address, String state, List<String> images) {
        static Seen of(final HostView h) {
            return new Seen(h.hostId(), h.address(), h.state(), h.images());
        }
    }

    @Test
    void killingTheLeaderOrAnEtcdMinorityLosesNothing() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path image = RandomFiles.write(images.resolve("disk.raw"), 16 * 65_536, 13);
        Path other = RandomFiles.write(images.resolve("other.raw"), 4 * 65_536, 14);
        String admin = secret();
        List<VirtmanManagerProcess> managers = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        BackgroundReads reads = null;
        try (EtcdCluster etcd = EtcdCluster.start(3, tmp.resolve("etcd"))) {
            for (int i = 0; i < 3; i++) {
                Path state = Files.createDirectories(tmp.resolve("state-" + i));
                FileModes.writePrivate(state.resolve("token"), admin + "\n"); // every manager accepts the same token
                FileModes.writePrivate(state.resolve("enrol-token"), secret() + "\n");
                managers.add(VirtmanManagerProcess.start(tmp.resolve("manager-" + i + ".log"), List.of(
                        "--listen", "127.0.0.1:0", "--state-dir", state.toString(), "--image-dir", images.toString(),
                        "--etcd", etcd.endpoints(), "--heartbeat-interval", HEARTBEAT.toMillis() + "ms",
                        "--heartbeat-timeout", HEARTBEAT_TIMEOUT.toMillis() + "ms")));
            }
            List<URI> urls = managers.stream().map(VirtmanManagerProcess::url).toList();
            ManagerClient any = client(urls.get(0), admin);
            ClusterView cluster = Await.until("a leader elected", Duration.ofSeconds(20), any::cluster,
                    c -> c.leader() != null && c.managers().size() == 3);
            assertThat(cluster.backend()).isEqualTo("etcd");
            assertThat(cluster.etcd()).hasSize(3).allMatch(ClusterView.Endpoint::healthy);
            int leaderIndex = urls.indexOf(URI.create(cluster.leader()));
            assertThat(leaderIndex).as("leader %s among %s", cluster.leader(), urls).isNotNegative();
            ManagerClient leader = client(urls.get(leaderIndex), admin);
            ManagerClient follower = client(urls.get((leaderIndex + 1) % 3), admin);

            ImageView disk = leader.registerImage("disk", image.toString());
            byte[] manifest = leader.manifest(disk.id());
            assertThatThrownBy(() -> follower.registerImage("other", other.toString()))
                    .as("a follower refuses writes, naming the leader")
                    .isInstanceOfSatisfying(ManagerClientException.class, e -> {
                        assertThat(e.status()).isEqualTo(503);
                        assertThat(e.getMessage()).contains(cluster.leader());
                    });
            for (int h = 0; h < HOSTS; h++) {
                leader.registerHost("h" + h, "127.0.1." + (h + 1) + ":3260", null);
            }
            VolumeView volume = leader.createVolume(new CreateVolumeRequest("vol-1", "data", "disk", null, 0));

            // the storm: every host heartbeats its image, failing over between managers
            AtomicInteger heartbeatsOk = new AtomicInteger();
            for (int h = 0; h < HOSTS; h++) {
                String host = "h" + h;
                threads.add(Thread.ofVirtual().start(() -> heartbeatLoop(host, disk.id(), urls, admin, stop,
                        heartbeatsOk)));
            }
            TreeView tree = Await.until("every host in the tree", Duration.ofSeconds(30), () -> leader.tree("disk"),
                    t -> t.nodes().size() == HOSTS);
            // followers answer reads from the state they follow
            Await.until("a follower to see the tree", Duration.ofSeconds(10), () -> follower.tree("disk"),
                    t -> t.nodes().size() == HOSTS);
            List<Seen> hostsBefore = leader.hosts().stream().map(Seen::of).toList();
            assertThat(hostsBefore).allMatch(s -> s.state().equals("alive"));

            // readers at both followers, counting every failed read
            List<Runnable> readers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                if (i != leaderIndex) {
                    ManagerClient reader = client(urls.get(i), admin);
                    readers.add(() -> {
                        reader.images();
                        reader.hosts();
                        reader.tree("disk");
                        reader.volumes();
                    });
                }
            }
            reads = BackgroundReads.start(readers, Duration.ofMillis(50));

            // 1. kill -9 the leader
            long killed = System.nanoTime();
            managers.get(leaderIndex).kill();
            ClusterView after = Await.until("a new leader", FAILOVER_BOUND, follower::cluster,
                    c -> c.leader() != null && !c.leader().equals(cluster.leader()));
            Duration failover = Duration.ofNanos(System.nanoTime() - killed);
            long leaderSeenAt = System.currentTimeMillis();
            ManagerClient newLeader = client(URI.create(after.leader()), admin);
            int beats = heartbeatsOk.get();
            Await.until("heartbeats accepted by the new leader", Duration.ofSeconds(10), heartbeatsOk::get,
                    n -> n > beats + 3 * HOSTS);
            // The new leader's grace began before we saw it lead; once its detector has judged a
            // full timeout after that, a falsely failed host would show.
            Await.until("the new leader's failure detector judging past the grace", Duration.ofSeconds(15),
                    () -> ManagerMetricsScrape.value(URI.create(after.leader()), admin, DETECTOR_JUDGED),
                    seconds -> seconds * 1000 > leaderSeenAt + HEARTBEAT_TIMEOUT.toMillis());
            List<Seen> hostsAfter = newLeader.hosts().stream().map(Seen::of).toList();
            assertThat(hostsAfter).as("no host failed by the fail-over").containsExactlyElementsOf(hostsBefore);
            assertThat(newLeader.tree("disk").nodes()).containsExactlyInAnyOrderElementsOf(tree.nodes());
            assertThat(newLeader.images()).extracting(ImageView::id, ImageView::name).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(disk.id(), "disk"));
            assertThat(newLeader.volumes()).extracting(VolumeView::id).containsExactly(volume.id());
            assertThat(newLeader.manifest(disk.id())).as("the manifest, built again by the new leader").isEqualTo(manifest);
            assertThat(reads.errors()).as("reads at the followers during the fail-over").isEmpty();
            System.out.printf("fail-over: new leader after %d ms; %d reads, 0 errors%n", failover.toMillis(),
                    reads.rounds());

            // 2. one etcd member down: no effect
            etcd.kill(0);
            newLeader.registerHost("late-1", "127.0.2.1:3260", null);
            assertThat(newLeader.host("late-1").hostId()).isEqualTo("late-1");
            Await.until("the follower to see late-1", Duration.ofSeconds(10), follower::hosts, h -> h.size() == HOSTS + 1);

            // 3. two down: reads answer, writes 503
            etcd.kill(1);
            assertThat(newLeader.images()).hasSize(1);
            assertThat(follower.hosts()).hasSize(HOSTS + 1);
            assertThatThrownBy(() -> newLeader.registerHost("late-2", "127.0.2.2:3260", null))
                    .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(503));
            assertThat(reads.errors()).isEmpty();

            // 4. both back: writes resume, nothing lost
            etcd.restart(0);
            etcd.restart(1);
            // Whoever leads now takes the write; the others refuse it with 503.
            List<ManagerClient> live = urls.stream().filter(u -> !u.equals(urls.get(leaderIndex)))
                    .map(u -> client(u, admin)).toList();
            ManagerClient writer = Members.firstToTake("writes to resume", Duration.ofSeconds(90), live,
                    c -> c.registerHost("late-2", "127.0.2.2:3260", null));
            assertThat(writer.hosts()).extracting(HostView::hostId).contains("late-1", "late-2", "h0");
            assertThat(writer.tree("disk").nodes()).hasSize(HOSTS);
            assertThat(writer.volumes()).extracting(VolumeView::id).containsExactly(volume.id());
        } finally {
            stop.set(true);
            if (reads != null) {
                reads.close();
            }
            for (Thread t : threads) {
                t.join(5_000);
            }
            managers.forEach(VirtmanManagerProcess::kill);
        }
    }

    private static String secret() {
        byte[] raw = new byte[32];
        new java.security.SecureRandom().nextBytes(raw);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    private static ManagerClient client(final URI url, final String token) {
        return new ManagerClient(url, token, Duration.ofSeconds(8));
    }

    /** One simulated host: heartbeats its image, moving to the next manager on refusal or silence. */
    private static void heartbeatLoop(final String host, final String imageId, final List<URI> urls, final String token,
                                      final AtomicBoolean stop, final AtomicInteger ok) {
        int at = 0;
        HeartbeatRequest beat = new HeartbeatRequest(host, Map.of(imageId, new HeartbeatRequest.ImageReport(16)));
        while (!stop.get()) {
            try {
                client(urls.get(at), token).heartbeat(host, beat);
                ok.incrementAndGet();
                sleep(HEARTBEAT);
            } catch (RuntimeException refusedOrDown) {
                at = (at + 1) % urls.size();
                sleep(Duration.ofMillis(50));
            }
        }
    }

    private static void sleep(final Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
