package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.ChunkManifestProvider;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.backend.StateBackend;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.Await;
import dev.virtman.testing.OffsetClock;
import dev.virtman.testing.RandomFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failed hosts are taken out of the tree and their children re-parented: by heartbeat timeout,
 * and sooner when children report them. Real HTTP, short timeouts, every wait bounded.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FailureDetectionTest {

    private static final int HOSTS = 7;

    @TempDir
    Path tmp;
    ManagerServer server;
    ManagerClient client;
    ImageView image;
    final Set<String> silenced = ConcurrentHashMap.newKeySet();
    /** The manager's clock: real time, moved on by a test that needs a heartbeat to be old. */
    final OffsetClock clock = new OffsetClock();
    final List<Thread> heartbeaters = new java.util.ArrayList<>();
    String victim;
    List<String> victimChildren;
    Set<String> victimSubtree;

    private void start(final Duration interval, final Duration timeout) throws Exception {
        ManagerConfig config = ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8))
                .withHeartbeat(interval, timeout);
        server = ManagerServer.start(config, new ChunkManifestProvider(config.chunkSize(), 2), ServerSettings.DEFAULT,
                StateBackend.SQLITE, clock);
        client = new ManagerClient(server.url(), server.token());
        image = client.registerImage("base", RandomFiles.write(tmp.resolve("disk.raw"), 8 * 4096, 3).toString());
        for (int i = 0; i < HOSTS; i++) {
            client.registerHost("h" + i, "127.0.0." + (i + 2) + ":3260", null);
        }
        // One agent loop per host, like real agents: heartbeat, sleep, unless silenced.
        for (int i = 0; i < HOSTS; i++) {
            String host = "h" + i;
            heartbeaters.add(Thread.ofVirtual().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    if (!silenced.contains(host)) {
                        client.heartbeat(host, serving());
                    }
                    try {
                        Thread.sleep(interval.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        Await.until(() -> client.tree(image.id()).nodes().size() == HOSTS
                && client.hosts().stream().allMatch(h -> h.state().equals("alive")), Duration.ofSeconds(20),
                "all hosts placed and alive");
        // A child of the source that has children of its own.
        TreeView tree = client.tree(image.id());
        victim = tree.nodes().stream().filter(n -> n.parent() == null && !n.children().isEmpty())
                .findFirst().orElseThrow().hostId();
        victimChildren = tree.nodes().stream().filter(n -> n.hostId().equals(victim)).findFirst().orElseThrow()
                .children();
        victimSubtree = new java.util.HashSet<>();
        collect(tree, victim, victimSubtree);
    }

    private static void collect(final TreeView tree, final String node, final Set<String> out) {
        out.add(node);
        for (TreeView.Node n : tree.nodes()) {
            if (node.equals(n.parent())) {
                collect(tree, n.hostId(), out);
            }
        }
    }

    private HeartbeatRequest serving() {
        return new HeartbeatRequest(null, Map.of(image.id(), new HeartbeatRequest.ImageReport(0)));
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Thread t : heartbeaters) {
            t.interrupt();
            t.join();
        }
        if (server != null) {
            server.close();
        }
    }

    private Map<String, String> parents() {
        Map<String, String> parents = new HashMap<>();
        for (TreeView.Node n : client.tree(image.id()).nodes()) {
            parents.put(n.hostId(), n.parent());
        }
        return parents;
    }

    @Test
    void silentHostIsFailedAndItsChildrenReparentedWithinTheTimeout() throws Exception {
        Duration timeout = Duration.ofMillis(1500);
        start(Duration.ofMillis(250), timeout);
        Map<String, String> before = parents();
        silenced.add(victim);
        long t0 = System.nanoTime();
        Await.until(() -> client.tree(image.id()).nodes().stream().noneMatch(n -> n.hostId().equals(victim)),
                Duration.ofSeconds(10), victim + " out of the tree");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("silent host failed and re-parented after %d ms (timeout %d ms)%n", millis, timeout.toMillis());
        assertThat(millis).isGreaterThanOrEqualTo(timeout.toMillis() - 300);
        Map<String, String> after = parents();
        assertThat(after).doesNotContainKey(victim).hasSize(HOSTS - 1);
        // Only the victim's subtree moved; its children are still in the tree.
        before.forEach((host, parent) -> {
            if (!victimSubtree.contains(host)) {
                assertThat(after.get(host)).as(host).isEqualTo(parent);
            }
        });
        assertThat(after).containsKeys(victimChildren.toArray(String[]::new));
        assertThat(client.host(victim).state()).isEqualTo("failed");
        for (String host : after.keySet()) {
            HeartbeatReply reply = client.heartbeat(host, serving());
            List<Portal> list = reply.images().get(image.id()).parents();
            assertThat(list).extracting(Portal::hostId).doesNotContain(victim);
            assertThat(list.getLast().hostId()).isNull();
        }
        String metrics = new String(java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/metrics"))
                        .header("Authorization", "Bearer " + server.token()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body());
        assertThat(metrics).contains("virtman_hosts_failed 1.0").contains("virtman_host_failures_total{cause=\"timeout\"}");
        assertThat(metrics).doesNotContain("virtman_reparent_events_total 0.0");

        // It comes back: rejoins without moving anyone.
        Map<String, String> beforeReturn = parents();
        HeartbeatReply back = client.heartbeat(victim, serving());
        silenced.remove(victim);
        assertThat(back.images().get(image.id()).status()).isEqualTo("placed");
        Map<String, String> rejoined = parents();
        beforeReturn.forEach((host, parent) -> assertThat(rejoined.get(host)).isEqualTo(parent));
        assertThat(client.host(victim).state()).isEqualTo("alive");
    }

    @Test
    void twoChildReportsFailAHostThatStillHeartbeats() throws Exception {
        start(Duration.ofMillis(250), Duration.ofSeconds(30));
        assertThat(victimChildren).hasSize(2);
        assertThat(client.reportFailure(victimChildren.get(0), victim).verdict()).isEqualTo("suspect");
        assertThat(client.host(victim).state()).isEqualTo("suspect");
        assertThat(parents()).containsKey(victim);
        assertThat(client.reportFailure(victimChildren.get(1), victim).verdict()).isEqualTo("failed");
        assertThat(parents()).doesNotContainKey(victim);
    }

    @Test
    void reportsFromHostsThatAreNotTheSuspectsChildrenAreIgnored() throws Exception {
        start(Duration.ofMillis(250), Duration.ofSeconds(30));
        Map<String, String> before = parents();
        List<String> strangers = before.keySet().stream().filter(h -> !victimSubtree.contains(h)).sorted().toList();
        assertThat(strangers).hasSizeGreaterThanOrEqualTo(2);
        for (String stranger : strangers.subList(0, 2)) {
            assertThat(client.reportFailure(stranger, victim).verdict()).isEqualTo("ignored");
        }
        assertThat(client.host(victim).state()).isEqualTo("alive");
        assertThat(parents()).isEqualTo(before);
    }

    @Test
    void oneReportFailsAHostWhoseHeartbeatIsStale() throws Exception {
        start(Duration.ofMillis(250), Duration.ofSeconds(30));
        silenced.add(victim);
        // Its loop between two beats (asleep), so no beat of it is still on the way to the manager.
        Thread beater = heartbeaters.get(Integer.parseInt(victim.substring(1)));
        Await.until(() -> beater.getState() == Thread.State.TIMED_WAITING, victim + "'s heartbeat loop asleep");
        clock.advance(Duration.ofSeconds(1)); // > 2 intervals even if the last heartbeat landed just now, << the 30 s timeout
        long t0 = System.nanoTime();
        assertThat(client.reportFailure(victimChildren.get(0), victim).verdict()).isEqualTo("failed");
        assertThat(parents()).doesNotContainKey(victim);
        System.out.printf("report-triggered re-parent took %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }
}
