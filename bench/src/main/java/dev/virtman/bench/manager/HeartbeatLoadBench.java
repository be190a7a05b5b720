package dev.virtman.bench.manager;

import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Load on a running manager shaped like the boot storm: N agents register and heartbeat every
 * interval. Each agent also times a {@code GET /healthz} right after each heartbeat: the same
 * HTTP stack with no manager logic, the baseline the heartbeat latency is compared with.
 *
 * <pre>
 *   java -cp target/virtman-bench.jar dev.virtman.bench.manager.HeartbeatLoadBench STATE_DIR [HOSTS] [INTERVAL_MS] [ROUNDS]
 * </pre>
 */
public final class HeartbeatLoadBench {

    private static final int IMAGE_BYTES = 1 << 20;

    private HeartbeatLoadBench() {
    }

    public static void main(final String[] args) throws Exception {
        Path stateDir = Path.of(args[0]);
        int hosts = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        long intervalMillis = args.length > 2 ? Long.parseLong(args[2]) : 1000;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        ManagerClient client = ManagerClient.locate(null, null, stateDir);
        // Image files must be under an image directory of the manager; its state's images/ is one.
        Path image = Files.createTempFile(Files.createDirectories(stateDir.resolve(StateDir.IMAGES)), "bench", ".raw");
        byte[] data = new byte[IMAGE_BYTES];
        new Random(1).nextBytes(data);
        Files.write(image, data);
        ImageView img = client.registerImage("bench", image.toString());
        HeartbeatRequest hb = new HeartbeatRequest(null, Map.of(img.id(), new HeartbeatRequest.ImageReport(0)));
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest health = HttpRequest.newBuilder(URI.create(client.base() + "/healthz")).build();
        List<Long> join = Collections.synchronizedList(new ArrayList<>());
        List<Long> steady = Collections.synchronizedList(new ArrayList<>());
        List<Long> baseline = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        SimulatedAgents.run(client, hosts, rounds, Duration.ofMillis(intervalMillis), hb, (host, round, nanos, reply) -> {
            long t1 = System.nanoTime();
            http.send(health, HttpResponse.BodyHandlers.discarding());
            long t2 = System.nanoTime();
            if (!"placed".equals(reply.images().get(img.id()).status())) {
                throw new IllegalStateException(host + " not placed");
            }
            (round == 0 ? join : steady).add(nanos);
            baseline.add(t2 - t1);
        }, (host, failure) -> System.err.println(host + ": " + failure.getMessage()));
        double seconds = (System.nanoTime() - start) / 1e9;
        client.removeImage(img.id());
        for (int i = 0; i < hosts; i++) {
            try {
                client.removeHost(SimulatedAgents.hostId(i));
            } catch (RuntimeException e) {
                System.err.println(SimulatedAgents.hostId(i) + ": " + e.getMessage());
            }
        }
        Files.delete(image);
        System.out.printf("%d hosts x %d heartbeats every %d ms in %.1f s (%.0f heartbeats/s)%n", hosts, rounds,
                intervalMillis, seconds, (join.size() + steady.size()) / seconds);
        double base = percentile(baseline, 50);
        print("GET /healthz (baseline)", baseline, base);
        print("first heartbeat (joins the tree: durable commit)", join, base);
        print("steady heartbeat (no disk write)", steady, base);
        System.out.println(join.size() + steady.size() == (long) hosts * rounds ? "all heartbeats placed" : "ERRORS: see stderr");
    }

    private static void print(final String what, final List<Long> nanos, final double baselineP50) {
        System.out.printf("  %-50s n=%5d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  p50 vs baseline %.2fx%n", what,
                nanos.size(), percentile(nanos, 50) / 1e6, percentile(nanos, 99) / 1e6, percentile(nanos, 100) / 1e6,
                percentile(nanos, 50) / baselineP50);
    }

    private static double percentile(final List<Long> values, final int p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1);
        return sorted.get(Math.max(0, index));
    }
}
