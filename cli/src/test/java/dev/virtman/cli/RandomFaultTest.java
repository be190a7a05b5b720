package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.backend.EtcdBackend;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.store.EtcdKeyspace;
import dev.virtman.manager.store.StoredState;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.volume.VolumeRecord;
import dev.virtman.testing.Await;
import dev.virtman.testing.EtcdCluster;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.RandomFiles;
import dev.virtman.testing.VirtmanManagerProcess;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.options.WatchOption;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's randomized fault test: for {@link #CHAOS} (bounded), managers are killed (SIGKILL),
 * paused (SIGSTOP past their lease, then SIGCONT) and restarted, and etcd members killed and
 * restarted, at random, while simulated hosts join, leave and fail and volumes are created and
 * deleted. The choices come from one seed, printed first ({@code -Dvirtman.faults.seed=N}
 * replays a run's choices; the timing of real processes still varies).
 *
 * <p>Afterwards, with every part back, the state is read straight from etcd and must be
 * consistent: each tree holds exactly the hosts that still heartbeat its image, each once, every
 * parent in the tree, no cycle; a host whose removal was acknowledged is gone; every volume whose
 * creation was acknowledged and not deleted is there, once, and every acknowledged deletion stuck.
 * Fencing: every leader's transaction writes its term ({@link EtcdKeyspace#WRITER}); read through
 * etcd's history of that key, the terms never go back, so no write of a deposed leader landed
 * after its successor's.
 */
@Tag("interop")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RandomFaultTest {
    private static final long DEFAULT_SEED = 20_261_207L;
    private static final Duration CHAOS = Duration.ofSeconds(40);
    private static final Duration STEP = Duration.ofMillis(800);
    private static final Duration HEARTBEAT = Duration.ofMillis(300);
    private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration PAUSE = Duration.ofSeconds(5);
    private static final int MANAGERS = 3;
    private static final int MAX_LIVE_HOSTS = 14;

    @TempDir
    Path tmp;

    /** One simulated host: heartbeats its images (moving between managers on refusal) until stopped. */
    private final class Host {
        final String id;
        final List<String> images;
        final AtomicBoolean stopped = new AtomicBoolean();
        Thread thread;

        Host(final String id, final List<String> images) {
            this.id = id;
            this.images = images;
        }

        void start() {
            Map<String, HeartbeatRequest.ImageReport> reports = new LinkedHashMap<>();
            images.forEach(i -> reports.put(i, new HeartbeatRequest.ImageReport(16)));
            HeartbeatRequest beat = new HeartbeatRequest(id, reports);
            thread = Thread.ofVirtual().start(() -> {
                int at = 0;
                while (!stopped.get() && !stopAll.get()) {
                    try {
                        client(urls.get(at)).heartbeat(id, beat);
                        sleep(HEARTBEAT);
                    } catch (RuntimeException refusedOrDown) {
                        at = (at + 1) % urls.size();
                        sleep(Duration.ofMillis(50));
                    }
                }
            });
        }
    }

    private final AtomicBoolean stopAll = new AtomicBoolean();
    private List<URI> urls;
    private String admin;

    @Test
    void stateStaysConsistentAndLeadersNeverInterleave() throws Exception {
        long seed = Long.getLong("virtman.faults.seed", DEFAULT_SEED);
        System.out.printf("RandomFaultTest seed %d (replay: -Dvirtman.faults.seed=%d)%n", seed, seed);
        Random random = new Random(seed);
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path imageA = RandomFiles.write(images.resolve("a.raw"), 8 * 65_536, 21);
        Path imageB = RandomFiles.write(images.resolve("b.raw"), 8 * 65_536, 22);
        admin = secret();
        String enrol = secret();
        VirtmanManagerProcess[] managers = new VirtmanManagerProcess[MANAGERS];
        List<String>[] managerArgs = new List[MANAGERS];
        Map<String, Host> live = new LinkedHashMap<>();
        Set<String> removed = new HashSet<>();
        Set<String> volumesAcked = new HashSet<>();
        Set<String> volumesDeleted = new HashSet<>();
        Map<String, Integer> events = new ConcurrentHashMap<>();
        List<Thread> background = new ArrayList<>();
        try (EtcdCluster etcd = EtcdCluster.start(3, tmp.resolve("etcd"))) {
            List<URI> list = new ArrayList<>();
            for (int i = 0; i < MANAGERS; i++) {
                Path state = Files.createDirectories(tmp.resolve("state-" + i));
                FileModes.writePrivate(state.resolve("token"), admin + "\n");
                FileModes.writePrivate(state.resolve("enrol-token"), enrol + "\n");
                InetSocketAddress listen = freePort();
                managerArgs[i] = List.of("--listen", "127.0.0.1:" + listen.getPort(), "--state-dir", state.toString(),
                        "--image-dir", images.toString(), "--etcd", etcd.endpoints(),
                        "--heartbeat-interval", HEARTBEAT.toMillis() + "ms",
                        "--heartbeat-timeout", HEARTBEAT_TIMEOUT.toMillis() + "ms");
                list.add(URI.create("http://127.0.0.1:" + listen.getPort()));
            }
            urls = List.copyOf(list);
            startManagers(managers, managerArgs, List.of(0, 1, 2), 0);
            assertThat(managers).as("every manager started").doesNotContainNull();
            String a = write("register image a", c -> c.registerImage("a", imageA.toString())).id();
            String b = write("register image b", c -> c.registerImage("b", imageB.toString())).id();
            Map<String, String> imageIds = Map.of("a", a, "b", b);
            int nextHost = 0;
            int nextVolume = 0;
            for (; nextHost < 6; nextHost++) {
                join(live, "h" + nextHost, random, imageIds);
            }

            long end = System.nanoTime() + CHAOS.toNanos();
            int generation = 1;
            while (System.nanoTime() < end) {
                int dice = random.nextInt(100);
                if (dice < 18) {                                   // a host joins
                    if (live.size() < MAX_LIVE_HOSTS && join(live, "h" + nextHost++, random, imageIds)) {
                        events.merge("join", 1, Integer::sum);
                    }
                } else if (dice < 26 && !live.isEmpty()) {         // a host leaves (stops, then is removed)
                    Host h = pick(live, random);
                    h.stopped.set(true);
                    live.remove(h.id);
                    if (tryWrite(c -> {
                        c.removeHost(h.id);
                        return true;
                    }) != null) {
                        removed.add(h.id);
                        events.merge("leave", 1, Integer::sum);
                    } else {
                        events.merge("leave-unacknowledged", 1, Integer::sum);
                    }
                } else if (dice < 34 && !live.isEmpty()) {         // a host fails (falls silent)
                    Host h = pick(live, random);
                    h.stopped.set(true);
                    live.remove(h.id);
                    events.merge("fail", 1, Integer::sum);
                } else if (dice < 48) {                            // a volume is created
                    String id = "v" + nextVolume++;
                    if (tryWrite(c -> c.createVolume(new CreateVolumeRequest(id, id, random.nextBoolean() ? "a" : "b",
                            null, 0))) != null) {
                        volumesAcked.add(id);
                        events.merge("volume", 1, Integer::sum);
                    }
                } else if (dice < 56 && !volumesAcked.isEmpty()) { // a volume is deleted
                    List<String> ids = new ArrayList<>(volumesAcked);
                    ids.removeAll(volumesDeleted);
                    if (!ids.isEmpty()) {
                        String id = ids.get(random.nextInt(ids.size()));
                        if (tryWrite(c -> {
                            c.deleteVolume(id);
                            return true;
                        }) != null) {
                            volumesDeleted.add(id);
                            events.merge("volume-delete", 1, Integer::sum);
                        }
                    }
                } else if (dice < 72) {                            // a manager is killed, restarted later
                    int m = random.nextInt(MANAGERS);
                    boolean leader = random.nextBoolean();
                    int target = leader ? leaderIndex().orElse(m) : m;
                    if (managers[target] != null && managers[target].alive() && aliveCount(managers) > 1) {
                        managers[target].kill();
                        events.merge(leader ? "kill-leader" : "kill-manager", 1, Integer::sum);
                        int g = generation++;
                        long delay = 1_000 + random.nextInt(4_000);
                        background.add(Thread.ofVirtual().start(() -> {
                            sleep(Duration.ofMillis(delay));
                            startManagers(managers, managerArgs, List.of(target), g);
                        }));
                    }
                } else if (dice < 82) {                            // the leader is paused past its lease
                    OptionalInt t = leaderIndex();
                    if (t.isPresent() && managers[t.getAsInt()] != null && managers[t.getAsInt()].alive()) {
                        VirtmanManagerProcess paused = managers[t.getAsInt()];
                        paused.pause(true);
                        events.merge("pause-leader", 1, Integer::sum);
                        background.add(Thread.ofVirtual().start(() -> {
                            sleep(PAUSE);
                            paused.pause(false);
                        }));
                    }
                } else if (dice < 94) {                            // an etcd member dies, comes back later
                    int member = random.nextInt(etcd.size());
                    long running = java.util.stream.IntStream.range(0, etcd.size()).filter(etcd::running).count();
                    // at most two down at once (no quorum for a while); a kill never hits all three
                    if (etcd.running(member) && running > 1) {
                        synchronized (etcd) {
                            etcd.kill(member);
                        }
                        events.merge(running == 3 ? "kill-etcd" : "kill-etcd-quorum", 1, Integer::sum);
                        long delay = 1_000 + random.nextInt(3_000);
                        background.add(Thread.ofVirtual().start(() -> {
                            sleep(Duration.ofMillis(delay));
                            synchronized (etcd) {
                                if (!etcd.running(member)) {
                                    etcd.restart(member);
                                }
                            }
                        }));
                    }
                }
                sleep(STEP);
            }

            // every part back, then the state must settle and be consistent
            for (Thread t : background) {
                t.join(150_000);
            }
            synchronized (etcd) {
                for (int i = 0; i < etcd.size(); i++) {
                    if (!etcd.running(i)) {
                        etcd.restart(i);
                    }
                }
            }
            List<Integer> dead = new ArrayList<>();
            for (int i = 0; i < MANAGERS; i++) {
                if (managers[i] == null || !managers[i].alive()) {
                    dead.add(i);
                }
            }
            startManagers(managers, managerArgs, dead, generation);
            assertThat(aliveCount(managers)).as("managers running at the end").isEqualTo(MANAGERS);
            System.out.printf("RandomFaultTest events: %s; %d hosts still live, %d removed, %d volumes acknowledged,"
                    + " %d deleted%n", new java.util.TreeMap<>(events), live.size(), removed.size(), volumesAcked.size(),
                    volumesDeleted.size());

            Map<String, Set<String>> expected = new HashMap<>();
            for (String image : List.of(a, b)) {
                Set<String> hosts = new HashSet<>();
                live.values().stream().filter(h -> h.images.contains(image)).forEach(h -> hosts.add(h.id));
                expected.put(image, hosts);
            }
            try (EtcdBackend backend = EtcdBackend.connect(etcd.clientUrls(), EtcdBackend.PREFIX, EtcdBackend.TIMEOUT)) {
                StoredState state = Await.until("the trees to hold exactly the live hosts", Duration.ofSeconds(60),
                        () -> backend.state().load(), s -> treeHosts(s, a).equals(expected.get(a))
                                && treeHosts(s, b).equals(expected.get(b)));
                Map<String, HostRecord> hosts = new HashMap<>();
                state.hosts().forEach(h -> hosts.put(h.hostId(), h));
                assertThat(state.hosts()).extracting(HostRecord::hostId).doesNotHaveDuplicates();
                for (String image : List.of(a, b)) {
                    checkTree(image, state.trees().get(image), hosts);
                }
                assertThat(hosts.keySet()).as("hosts whose removal was acknowledged").doesNotContainAnyElementsOf(removed);
                for (Host h : live.values()) {
                    assertThat(hosts.get(h.id).failed()).as("live host %s failed", h.id).isFalse();
                }

                List<VolumeRecord> volumes = backend.volumes().all();
                assertThat(volumes).extracting(VolumeRecord::id).doesNotHaveDuplicates();
                assertThat(volumes).extracting(VolumeRecord::name).doesNotHaveDuplicates();
                Set<String> kept = new HashSet<>(volumesAcked);
                kept.removeAll(volumesDeleted);
                assertThat(volumes).extracting(VolumeRecord::id).as("acknowledged volumes").containsAll(kept)
                        .noneMatch(volumesDeleted::contains);

                List<Long> terms = writerHistory(backend.keyspace());
                System.out.printf("RandomFaultTest: %d fenced transactions by %d leader terms %s%n", terms.size(),
                        terms.stream().distinct().count(), terms.stream().distinct().toList());
                assertThat(terms).as("terms of the writes, in etcd's revision order").isSorted();
                assertThat(terms.stream().distinct().count()).as("leaders that wrote").isGreaterThan(1);
            }
        } finally {
            stopAll.set(true);
            for (Thread t : background) {
                t.join(30_000);
            }
            for (VirtmanManagerProcess m : managers) {
                if (m != null) {
                    m.pause(false);
                    m.kill();
                }
            }
        }
    }

    /** The terms of every write of {@link EtcdKeyspace#WRITER}, in revision order (etcd keeps its history). */
    private static List<Long> writerHistory(final EtcdKeyspace etcd) throws Exception {
        ByteSequence key = etcd.key(EtcdKeyspace.WRITER);
        long last = etcd.get(EtcdKeyspace.WRITER).orElseThrow().getModRevision();
        List<Long> terms = new ArrayList<>();
        CompletableFuture<Void> caughtUp = new CompletableFuture<>();
        try (var watcher = etcd.client().getWatchClient().watch(key, WatchOption.builder().withRevision(1).build(),
                r -> {
                    for (WatchEvent e : r.getEvents()) {
                        synchronized (terms) {
                            terms.add(Long.parseLong(e.getKeyValue().getValue().toString(StandardCharsets.UTF_8)));
                        }
                        if (e.getKeyValue().getModRevision() >= last) {
                            caughtUp.complete(null);
                        }
                    }
                })) {
            caughtUp.get(30, TimeUnit.SECONDS);
        }
        synchronized (terms) {
            return List.copyOf(terms);
        }
    }

    private static Set<String> treeHosts(final StoredState s, final String image) {
        Set<String> out = new HashSet<>();
        DistributionTree t = s.trees().get(image);
        if (t != null) {
            t.edges().forEach(e -> out.add(e.hostId()));
        }
        return out;
    }

    /** Each host once, each parent the source or a host of the same tree, every host reaches the source. */
    private static void checkTree(final String image, final DistributionTree tree, final Map<String, HostRecord> hosts) {
        Map<String, String> parent = new HashMap<>();
        for (DistributionTree.Edge e : tree.edges()) {
            assertThat(parent.put(e.hostId(), e.parentId())).as("%s twice in the tree of %s", e.hostId(), image).isNull();
            assertThat(hosts).as("tree host %s is a registered host", e.hostId()).containsKey(e.hostId());
        }
        for (String host : parent.keySet()) {
            String at = host;
            for (int steps = 0; !at.equals(DistributionTree.SOURCE); steps++) {
                assertThat(steps).as("%s reaches the source of %s without a cycle", host, image)
                        .isLessThanOrEqualTo(parent.size());
                at = parent.get(at);
                assertThat(at).as("parent chain of %s in %s", host, image).isNotNull();
            }
        }
    }

    private boolean join(final Map<String, Host> live, final String id, final Random random,
                         final Map<String, String> imageIds) {
        int n = random.nextInt(3);
        List<String> images = n == 0 ? List.of(imageIds.get("a")) : n == 1 ? List.of(imageIds.get("b"))
                : List.of(imageIds.get("a"), imageIds.get("b"));
        int octet = Integer.parseInt(id.substring(1));
        if (tryWrite(c -> c.registerHost(id, "127.0." + (1 + octet / 250) + "." + (1 + octet % 250) + ":3260",
                null)) == null) {
            return false;
        }
        Host h = new Host(id, images);
        live.put(id, h);
        h.start();
        return true;
    }

    /** Which manager leads, as the first manager that answers says; empty if none answers or none leads. */
    private OptionalInt leaderIndex() {
        for (URI u : urls) {
            try {
                String leader = new ManagerClient(u, admin, Duration.ofSeconds(1)).cluster().leader();
                if (leader != null) {
                    int i = urls.indexOf(URI.create(leader));
                    return i >= 0 ? OptionalInt.of(i) : OptionalInt.empty();
                }
            } catch (RuntimeException downOrPaused) {
                // ask the next one
            }
        }
        return OptionalInt.empty();
    }

    private static int aliveCount(final VirtmanManagerProcess[] managers) {
        int n = 0;
        for (VirtmanManagerProcess m : managers) {
            if (m != null && m.alive()) {
                n++;
            }
        }
        return n;
    }

    /** Starts the managers {@code which} (in parallel) on their fixed ports; one that does not start stays down. */
    private void startManagers(final VirtmanManagerProcess[] managers, final List<String>[] args,
                               final List<Integer> which, final int generation) {
        List<Thread> starting = new ArrayList<>();
        for (int i : which) {
            starting.add(Thread.ofVirtual().start(() -> {
                try {
                    managers[i] = VirtmanManagerProcess.start(tmp.resolve("manager-" + i + "-" + generation + ".log"),
                            args[i]);
                } catch (RuntimeException e) {
                    System.out.printf("RandomFaultTest: manager %d did not start (generation %d): %s%n", i,
                            generation, e.getMessage().lines().findFirst().orElse(""));
                }
            }));
        }
        for (Thread t : starting) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Offers a write to each manager in turn (whoever leads takes it) for up to 3 s; null if none did. */
    private <T> T tryWrite(final Function<ManagerClient, T> op) {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < deadline) {
            for (URI u : urls) {
                try {
                    return op.apply(client(u));
                } catch (ManagerClientException e) {
                    if (e.status() != 503 && e.status() > 0) {
                        return null; // refused for what it is (e.g. a retried create that had committed)
                    }
                } catch (RuntimeException downOrPaused) {
                    // the next manager
                }
            }
            sleep(Duration.ofMillis(100));
        }
        return null;
    }

    /** As {@link #tryWrite}, but the write must succeed within 60 s (set-up). */
    private <T> T write(final String what, final Function<ManagerClient, T> op) {
        return Await.until(what, Duration.ofSeconds(60), () -> {
            T done = tryWrite(op);
            if (done == null) {
                throw new IllegalStateException(what + ": no manager took the write");
            }
            return done;
        }, x -> true);
    }

    private ManagerClient client(final URI url) {
        return new ManagerClient(url, admin, Duration.ofSeconds(2));
    }

    private static InetSocketAddress freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress("127.0.0.1", s.getLocalPort());
        }
    }

    private static String secret() {
        byte[] raw = new byte[32];
        new java.security.SecureRandom().nextBytes(raw);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    private static <V> V pick(final Map<String, V> map, final Random random) {
        List<V> values = new ArrayList<>(map.values());
        return values.get(random.nextInt(values.size()));
    }

    private static void sleep(final Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
