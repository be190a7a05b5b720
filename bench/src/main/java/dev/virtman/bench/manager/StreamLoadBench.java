package dev.virtman.bench.manager;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.AgentSession;
import dev.virtman.manager.client.ManagerClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * N simulated agents against a manager in another JVM, one agent stream each, default manager
 * settings: the join wave (every agent enrols at once: register, open its stream, report), then a
 * steady window with the manager's CPU read from {@code /proc/PID/stat}, then optionally the same
 * window again while another process abuses the manager ({@link ConnectionAbuser}).
 *
 * <pre>
 *   java -cp virtman.jar dev.virtman.manager.bench.StreamLoadBench STATE_DIR MANAGER_PID HOSTS STEADY_S [ABUSE]
 * </pre>
 *
 * Join latency: from the moment an agent starts enrolling (registration included, and the wait
 * for one of {@link #REGISTRATIONS_IN_FLIGHT} registration slots) to the first reply that places
 * it. Heartbeat latency in steady state: the stream's ping round trip (what liveness rides on).
 */
public final class StreamLoadBench {

    /** Registrations sent at once: the agents' JVM has one descriptor budget for REST and streams. */
    private static final int REGISTRATIONS_IN_FLIGHT = 512;
    /** Simulated agents per HTTP client (each client: one selector thread, its own connection pool). */
    private static final int AGENTS_PER_CLIENT = 100;
    private static final Duration INTERVAL = Duration.ofSeconds(2);
    private static final Duration TIMEOUT = Duration.ofSeconds(6);
    private static final int IMAGE_BYTES = 1 << 20;
    private static final int REGISTRATION_ATTEMPTS = 10;
    /** How long the join wave may take before the bench reports what it has (a quiet run must stay short). */
    private static final int WAVE_LIMIT_S = Integer.getInteger("bench.waveLimitSeconds", 180);

    private StreamLoadBench() { }

    public static void main(final String[] args) throws Exception {
        // Before anything touches a SecureRandom: the JDK's WebSocket client masks every frame it
        // sends with a key from its own SecureRandom, and the default on Linux (NativePRNG) reads
        // /dev/urandom under one lock for the whole JVM. A real agent is a process of its own; 10,000
        // simulated ones in one JVM queued every ping on that lock (a thread dump in a 10,000-host
        // wave had 241 senders blocked on it), their streams went silent for 6 s and the manager
        // failed their hosts. DRBG, the default when the entropy source is not named /dev/urandom
        // literally, locks per instance. -Djava.security.egd=... on the command line overrides this.
        if (System.getProperty("java.security.egd") == null) {
            System.setProperty("java.security.egd", "file:/dev/./urandom");
        }
        System.out.println("agents' SecureRandom (WebSocket frame masks): "
                + new java.security.SecureRandom().getAlgorithm());
        Path stateDir = Path.of(args[0]);
        long managerPid = Long.parseLong(args[1]);
        int hosts = Integer.parseInt(args[2]);
        int steadySeconds = Integer.parseInt(args[3]);
        boolean abuse = args.length > 4 && args[4].equals("abuse");
        ManagerClient client = ManagerClient.locate(null, null, stateDir);
        // Real agents are separate processes, each with its own HTTP client. One JDK HttpClient for
        // thousands of agents is a bottleneck of the bench, not of the manager: its one selector
        // thread serves every socket and its timer monitor is taken by every request (a 3,000-agent
        // flight recording had its workers blocked ~230 s on it during the wave). So the agents are
        // spread over one client per AGENTS_PER_CLIENT agents (-Dbench.clients=N overrides); each
        // agent still has its own connection (its stream), registrations share their client's pool.
        int clientCount = Integer.getInteger("bench.clients",
                Math.max(1, (hosts + AGENTS_PER_CLIENT - 1) / AGENTS_PER_CLIENT));
        List<ManagerClient> clients = new ArrayList<>();
        for (int c = 0; c < clientCount; c++) {
            clients.add(c == 0 ? client : ManagerClient.locate(null, null, stateDir));
        }
        // The manager accepts image files only under an image directory; its own images/ always counts.
        Path image = Files.createDirectories(stateDir.resolve("images")).resolve("bench.raw");
        byte[] data = new byte[IMAGE_BYTES];
        new Random(1).nextBytes(data);
        Files.write(image, data);
        ImageView img = client.registerImage("bench", image.toString());
        Files.delete(image);
        HeartbeatRequest report = new HeartbeatRequest(null, Map.of(img.id(), new HeartbeatRequest.ImageReport(0)),
                null, null);

        List<Long> joins = Collections.synchronizedList(new ArrayList<>());
        List<Long> registers = Collections.synchronizedList(new ArrayList<>());
        List<Long> opens = Collections.synchronizedList(new ArrayList<>());
        List<Long> rtts = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<List<Long>> window = new AtomicReference<>(null);
        AtomicInteger errors = new AtomicInteger();
        Map<String, String> firstErrors = new ConcurrentHashMap<>();
        CountDownLatch placed = new CountDownLatch(hosts);
        Semaphore registrations = new Semaphore(REGISTRATIONS_IN_FLIGHT);
        List<Thread> agents = new ArrayList<>();
        List<AgentSession> sessions = Collections.synchronizedList(new ArrayList<>());
        long waveStart = System.nanoTime();
        for (int i = 0; i < hosts; i++) {
            String host = SimulatedAgents.hostId(i);
            ManagerClient agentClient = clients.get(i % clientCount);
            String address = SimulatedAgents.address(i);
            var labels = SimulatedAgents.labels(i);
            agents.add(Thread.ofVirtual().start(() -> {
                long t0 = System.nanoTime();
                AtomicInteger joined = new AtomicInteger();
                AgentSession session = new AgentSession(agentClient, host, reply -> {
                    HeartbeatReply.Placement p = reply.images().get(img.id());
                    if (p != null && "placed".equals(p.status()) && joined.getAndIncrement() == 0) {
                        joins.add(System.nanoTime() - t0);
                        placed.countDown();
                    }
                }, TIMEOUT, Duration.ofSeconds(10), nanos -> {
                    List<Long> w = window.get();
                    if (w != null) {
                        w.add(nanos);
                    }
                });
                sessions.add(session);
                // A real agent retries its registration; so does this one (each failure counted).
                boolean registered = false;
                for (int attempt = 0; attempt < REGISTRATION_ATTEMPTS && !registered; attempt++) {
                    try {
                        registrations.acquire();
                        try {
                            long r0 = System.nanoTime();
                            agentClient.registerHost(host, address, labels);
                            registers.add(System.nanoTime() - r0);
                            registered = true;
                        } finally {
                            registrations.release();
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        errors.incrementAndGet();
                        firstErrors.putIfAbsent(e.getClass().getSimpleName(), host + ": " + e.getMessage());
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException stop) {
                            return;
                        }
                    }
                }
                if (!registered) {
                    return;
                }
                // Ticks spread over the interval, as independent hosts would be.
                long phase = Math.floorMod(host.hashCode(), (int) INTERVAL.toMillis());
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        boolean first = !session.connected();
                        long o0 = System.nanoTime();
                        session.tick(report);
                        if (first && joined.get() == 0) {
                            opens.add(System.nanoTime() - o0);
                        }
                    } catch (RuntimeException e) {
                        errors.incrementAndGet();
                        firstErrors.putIfAbsent(e.getClass().getSimpleName(), host + ": " + e.getMessage());
                    }
                    try {
                        Thread.sleep(joined.get() == 0 ? 200 : INTERVAL.toMillis() + (phase > 0 ? 0 : 0));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        boolean allPlaced = placed.await(WAVE_LIMIT_S, TimeUnit.SECONDS);
        double waveSeconds = (System.nanoTime() - waveStart) / 1e9;
        System.out.printf("hosts %d (on %d HTTP clients): join wave %.1f s, %d placed by their stream%s%n", hosts,
                clientCount, waveSeconds, hosts - placed.getCount(),
                allPlaced ? "" : " (gave up waiting after " + WAVE_LIMIT_S + " s)");
        print("join (enrol -> placed)", joins);
        print("registration (POST)", registers);
        print("stream open + first report", opens);
        serverTimes(client, stateDir);

        // Let the wave's work (JIT, GC, the last pushes) settle before measuring the steady state.
        Thread.sleep(INTERVAL.toMillis() * 3);
        Steady quiet = steady(managerPid, steadySeconds, window, rtts);
        System.out.printf("steady %d s: manager CPU %.3f core-s/s, ping round trip p50 %.2f ms p99 %.2f ms (n=%d)%n",
                steadySeconds, quiet.cpu, percentile(quiet.rtts, 50) / 1e6, percentile(quiet.rtts, 99) / 1e6,
                quiet.rtts.size());
        // Hosts the manager failed so far (wave and steady window), before the agents go away.
        System.out.println("manager: hosts failed during the run: " + failures(client, stateDir));
        if (abuse) {
            Process abuser = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), ConnectionAbuser.class.getName(),
                    client.base().toString(), Integer.toString(steadySeconds + 15))
                    .inheritIO().start();
            Thread.sleep(10_000); // the abuser's connections are all open and its half-sent requests held
            Steady abused = steady(managerPid, steadySeconds, window, rtts);
            System.out.printf("abused %d s: manager CPU %.3f core-s/s, ping round trip p50 %.2f ms p99 %.2f ms (n=%d),"
                    + " p99 ratio abused/quiet %.2f%n", steadySeconds, abused.cpu, percentile(abused.rtts, 50) / 1e6,
                    percentile(abused.rtts, 99) / 1e6, abused.rtts.size(),
                    percentile(abused.rtts, 99) / percentile(quiet.rtts, 99));
            abuser.waitFor(steadySeconds + 60L, TimeUnit.SECONDS);
            abuser.destroy();
        }
        int failed = 0;
        for (HostView h : client.hosts()) {
            if (!"alive".equals(h.state())) {
                failed++;
            }
        }
        TreeView tree = client.tree(img.id());
        System.out.printf("tree: %d placed, %d unplaced, depth %d (max %d, fan-out %d, source fan-out %d);"
                + " hosts not alive: %d; errors: %d%n", tree.nodes().size(), tree.unplaced().size(), tree.depth(),
                tree.maxDepth(), tree.fanOut(), tree.sourceFanOut(), failed, errors.get());
        firstErrors.forEach((k, v) -> System.out.println("  first " + k + ": " + v));
        agents.forEach(Thread::interrupt);
        sessions.forEach(AgentSession::close);
        System.exit(0);
    }

    /** The manager's count of failed hosts ({@code virtman_host_failures_total}, every cause). */
    private static long failures(final ManagerClient client, final Path stateDir) throws Exception {
        long total = 0;
        for (String line : metrics(client, stateDir).split("\n")) {
            if (line.startsWith("virtman_host_failures_total")) {
                total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    private static String metrics(final ManagerClient client, final Path stateDir) throws Exception {
        String token = Files.readString(stateDir.resolve("token")).strip();
        return java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(client.base() + "/metrics"))
                        .header("Authorization", "Bearer " + token).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The manager's own view of the wave: time in its handlers per endpoint (count, mean, max). */
    private static void serverTimes(final ManagerClient client, final Path stateDir) throws Exception {
        String token = Files.readString(stateDir.resolve("token")).strip();
        java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(client.base() + "/metrics"))
                        .header("Authorization", "Bearer " + token).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        Map<String, double[]> byEndpoint = new java.util.TreeMap<>();
        for (String line : metrics.body().split("\n")) {
            if (!line.startsWith("virtman_http_requests_seconds")) {
                continue;
            }
            int brace = line.indexOf('{');
            String name = line.substring(0, brace);
            String labels = line.substring(brace, line.indexOf('}') + 1);
            double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            double[] v = byEndpoint.computeIfAbsent(labels, k -> new double[3]);
            switch (name) {
                case "virtman_http_requests_seconds_count" -> v[0] = value;
                case "virtman_http_requests_seconds_sum" -> v[1] = value;
                case "virtman_http_requests_seconds_max" -> v[2] = value;
                default -> { }
            }
        }
        byEndpoint.forEach((labels, v) -> System.out.printf("  manager handler %s n=%.0f mean %.1f ms max %.1f ms%n",
                labels, v[0], v[0] == 0 ? 0 : v[1] / v[0] * 1e3, v[2] * 1e3));
    }

    private record Steady(double cpu, List<Long> rtts) { }

    private static Steady steady(final long pid, final int seconds, final AtomicReference<List<Long>> window,
                                 final List<Long> unused) throws Exception {
        List<Long> rtts = Collections.synchronizedList(new ArrayList<>());
        long ticks0 = ProcessCpu.ticks(pid);
        long t0 = System.nanoTime();
        window.set(rtts);
        Thread.sleep(seconds * 1000L);
        window.set(null);
        long ticks1 = ProcessCpu.ticks(pid);
        double wall = (System.nanoTime() - t0) / 1e9;
        return new Steady((ticks1 - ticks0) / (double) ProcessCpu.TICKS_PER_SECOND / wall, new ArrayList<>(rtts));
    }

    static void print(final String what, final List<Long> nanos) {
        System.out.printf("  %-28s n=%6d  p50 %8.1f ms  p99 %8.1f ms  max %8.1f ms%n", what, nanos.size(),
                percentile(nanos, 50) / 1e6, percentile(nanos, 99) / 1e6, percentile(nanos, 100) / 1e6);
    }

    static double percentile(final List<Long> values, final int p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1);
        return sorted.get(Math.max(0, index));
    }
}
