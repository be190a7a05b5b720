package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.client.AgentSession;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.testing.Await;
import dev.virtman.testing.RandomFiles;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager is the slow side: a real manager process ({@code virtman manager}) with 40 agents
 * on real streams is stopped (SIGSTOP) for more than two heartbeat timeouts while the agents keep
 * pinging, then continued, twice. Their pings waited in the manager's socket buffers the whole time, so
 * no stream may be closed by the manager's idle timeout and no host may be failed: silence is the
 * failure detector's to judge, and it does not count time in which the manager could not run.
 * Before the fix, Jetty's idle timeout (the heartbeat timeout) closed the streams with "1001
 * Connection Idle Timeout" as soon as the manager ran again, before it read what had arrived:
 * what a 10,000-host enrolment wave on a starved machine did to hundreds of streams
 * (docs/benchmarks-log.md). The agents are patient (30 s) on purpose: their own silence
 * detection is not under test here.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ManagerStallTest {

    private static final int HOSTS = 40;
    /** Stalls in a row: whether a stream is closed is a race on resume (Jetty's idle check or its read first). */
    private static final int STALLS = 2;
    private static final Duration INTERVAL = Duration.ofMillis(300);
    private static final Duration TIMEOUT = Duration.ofMillis(1500);
    /** How long the manager process is stopped: more than two heartbeat timeouts. */
    private static final Duration STALL = Duration.ofMillis(3500);

    @TempDir
    Path tmp;
    private Process manager;
    private final List<Thread> tickers = new ArrayList<>();
    private final List<AgentSession> sessions = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        tickers.forEach(Thread::interrupt);
        for (Thread t : tickers) {
            t.join(5_000);
        }
        sessions.forEach(AgentSession::close);
        if (manager != null) {
            signal("CONT"); // never leave a stopped process behind, whatever failed
            manager.destroyForcibly();
            manager.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aStalledManagerClosesNoStreamAndFailsNoHost() throws Exception {
        Path state = tmp.resolve("state");
        Path log = tmp.resolve("manager.log");
        manager = startManagerProcess(state, log);
        ManagerClient admin = awaitManager(state, log);
        String image = admin.registerImage("base", RandomFiles.write(tmp.resolve("disk.raw"), 4 * 4096, 3).toString())
                .id();
        HeartbeatRequest report = new HeartbeatRequest(null, Map.of(image, new HeartbeatRequest.ImageReport(0)),
                null, null);

        Map<String, HeartbeatReply> latest = new ConcurrentHashMap<>();
        Map<String, Long> lastPong = new ConcurrentHashMap<>();
        AtomicInteger drops = new AtomicInteger();
        for (int i = 0; i < HOSTS; i++) {
            String host = "h" + i;
            ManagerClient agentClient = ManagerClient.locate(null, null, state);
            agentClient.registerHost(host, "127.0.1." + (i + 2) + ":3260", null);
            AgentSession session = new AgentSession(agentClient, host, reply -> latest.put(host, reply),
                    Duration.ofSeconds(30), Duration.ofSeconds(10), rtt -> lastPong.put(host, System.nanoTime()));
            sessions.add(session);
            tickers.add(Thread.ofVirtual().start(() -> {
                boolean opened = false;
                while (!Thread.currentThread().isInterrupted()) {
                    if (opened && !session.connected()) {
                        drops.incrementAndGet(); // closed by the manager; this tick reopens it
                    }
                    try {
                        session.tick(report);
                        opened = true;
                    } catch (RuntimeException e) {
                        drops.incrementAndGet();
                    }
                    try {
                        Thread.sleep(INTERVAL);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        Await.until(() -> latest.size() == HOSTS && latest.values().stream()
                .allMatch(r -> r.images().get(image) != null && "placed".equals(r.images().get(image).status())),
                Duration.ofSeconds(30), "every host placed");
        assertThat(drops.get()).as("streams dropped before the stall").isZero();

        for (int stall = 1; stall <= STALLS; stall++) {
            signal("STOP");
            Thread.sleep(STALL.toMillis()); // the fault itself: the manager does not run for this long
            signal("CONT");
            long resumed = System.nanoTime();
            // Every agent hears the manager again (a pong after the stall): the manager has read
            // the pings that waited for it, and answered.
            Await.until(() -> lastPong.size() == HOSTS && lastPong.values().stream().allMatch(t -> t > resumed),
                    Duration.ofSeconds(20), "a pong on every stream after stall " + stall);
            assertThat(drops.get()).as("streams the manager closed or refused after %d stalls of %d ms", stall,
                    STALL.toMillis()).isZero();
        }
        List<HostView> hosts = admin.hosts();
        assertThat(hosts).hasSize(HOSTS).allSatisfy(h -> assertThat(h.state()).as(h.hostId()).isEqualTo("alive"));
        assertThat(Files.readString(log, StandardCharsets.UTF_8)).doesNotContain("failed (no heartbeat");
    }

    private void signal(final String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(manager.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    private static Process startManagerProcess(final Path state, final Path log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "dev.virtman.cli.VirtmanCommand", "manager", "--listen", "127.0.0.1:0", "--state-dir", state.toString(),
                "--image-dir", state.getParent().toString(), "--chunk-size", "4K",
                "--heartbeat-interval", INTERVAL.toMillis() + "ms", "--heartbeat-timeout", TIMEOUT.toMillis() + "ms");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        return pb.start();
    }

    private ManagerClient awaitManager(final Path state, final Path log) throws Exception {
        File url = state.resolve(StateDir.URL).toFile();
        Await.until(() -> url.exists() || !manager.isAlive(), Duration.ofSeconds(60), "the manager's URL file");
        if (!url.exists()) {
            throw new AssertionError("manager process exited " + manager.exitValue() + ": " + Files.readString(log));
        }
        return ManagerClient.locate(null, null, state);
    }
}
