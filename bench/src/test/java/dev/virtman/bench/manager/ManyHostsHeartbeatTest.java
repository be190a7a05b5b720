package dev.virtman.bench.manager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The boot-storm shape: 100 agents on 127.0.0.2.. register with one manager and heartbeat every
 * second. Checks the tree and that nobody is falsely failed; prints the heartbeat latency (the
 * speed figure lives in bench/, this only proves it works).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ManyHostsHeartbeatTest {

    private static final int HOSTS = 100;
    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final int ROUNDS = 5;

    @TempDir
    Path tmp;

    private static ManagerConfig config(final Path stateDir, final TreeLimits limits) {
        return ManagerConfig.defaults(new StateDir(stateDir))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLimits(limits)
                .withSource("127.0.0.1:3260", Locality.UNKNOWN)
                .withChunkSize(4096);
    }

    private static void print(final String what, final List<Long> latencies) {
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        System.out.printf("%s: %d from %d hosts: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", what, sorted.size(), HOSTS,
                sorted.get(sorted.size() / 2) / 1e6, sorted.get(sorted.size() * 99 / 100) / 1e6, sorted.getLast() / 1e6);
    }

    @Test
    void hundredHostsHeartbeatingEverySecond() throws Exception {
        TreeLimits limits = TreeLimits.DEFAULT;
        try (ManagerServer server = ManagerServer.start(config(tmp.resolve("state"), limits)
                .withHeartbeat(INTERVAL, Duration.ofSeconds(10))
                .withImageDirs(List.of(tmp)))) {
            ManagerClient client = new ManagerClient(server.url(), server.token());
            ImageView img = client.registerImage("base", RandomFiles.write(tmp.resolve("d.raw"), 64 * 4096, 9).toString());
            HeartbeatRequest hb = new HeartbeatRequest(null, Map.of(img.id(), new HeartbeatRequest.ImageReport(0)));
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            List<Long> steady = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger errors = new AtomicInteger();
            SimulatedAgents.run(client, HOSTS, ROUNDS, INTERVAL, hb, (host, round, nanos, reply) -> {
                latencies.add(nanos);
                if (round > 0) {
                    steady.add(nanos);
                }
                if (!reply.images().get(img.id()).status().equals("placed")) {
                    errors.incrementAndGet();
                }
            }, (host, failure) -> errors.incrementAndGet());
            assertThat(errors.get()).isZero();
            assertThat(latencies).hasSize(HOSTS * ROUNDS);
            print("all heartbeats (first one joins the tree: a durable commit)", latencies);
            print("steady-state heartbeats (rounds 2..)", steady);

            TreeView tree = client.tree(img.id());
            assertThat(tree.nodes()).hasSize(HOSTS);
            assertThat(tree.unplaced()).isEmpty();
            assertThat(tree.depth()).isLessThanOrEqualTo(limits.maxDepth());
            long sourceChildren = tree.nodes().stream().filter(n -> n.parent() == null).count();
            assertThat(sourceChildren).isLessThanOrEqualTo(limits.sourceFanOut());
            assertThat(tree.nodes()).allMatch(n -> n.children().size() <= limits.fanOut());
            // Rack preference (asserted deterministically in TreePlannerTest); here arrival order is random.
            Map<String, String> rackOf = new java.util.HashMap<>();
            tree.nodes().forEach(n -> rackOf.put(n.hostId(), n.rack()));
            long sameRack = tree.nodes().stream()
                    .filter(n -> n.parent() != null && rackOf.get(n.parent()).equals(n.rack())).count();
            System.out.printf("tree depth %d; %d of %d non-root hosts have a same-rack parent%n", tree.depth(), sameRack,
                    HOSTS - sourceChildren);
            assertThat(client.hosts()).extracting(HostView::state).containsOnly("alive");
            String metrics = new String(java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/metrics"))
                            .header("Authorization", "Bearer " + server.token()).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            metrics.lines().filter(l -> l.startsWith("virtman_http_requests_seconds_") && l.contains("heartbeat"))
                    .forEach(l -> System.out.println("server side: " + l));
        }
    }
}
