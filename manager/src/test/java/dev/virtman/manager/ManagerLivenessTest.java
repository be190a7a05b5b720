package dev.virtman.manager;

import dev.virtman.testing.Await;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.store.StateStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A heartbeat counts from when it arrives, not from when it gets the manager's lock: while joins
 * hold the lock one after another, the failure detector must not fail a host whose heartbeat is
 * waiting behind them. A host that really went silent is still failed after the timeout.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ManagerLivenessTest {
    private static final int CHUNK = 4096;

    @TempDir
    Path tmp;

    @Test
    void aHeartbeatWaitingForTheLockKeepsItsHostAlive() throws Exception {
        AtomicLong millis = new AtomicLong(1_000_000);
        InstantSource clock = () -> Instant.ofEpochMilli(millis.get());
        StateDir dir = new StateDir(tmp.resolve("state")).create();
        ManagerConfig config = ManagerConfig.defaults(dir).withImageDirs(List.of(dir.path().getParent())).withHeartbeat(Duration.ofSeconds(1), Duration.ofSeconds(6))
                .withChunkSize(CHUNK);
        try (Manager manager = new Manager(config, StateStore.open(dir.database()),
                new ChunkManifestProvider(CHUNK, 1), new SimpleMeterRegistry(), clock)) {
            HeartbeatRequest beat = new HeartbeatRequest("h1", Map.of());
            manager.registerHost("h1", "127.0.0.2:3260", null);
            manager.heartbeat("h1", beat);

            Thread waiting;
            synchronized (manager.lock()) {
                // The lock is busy (as with a convoy of joins) when the next heartbeat arrives.
                millis.addAndGet(5_000);
                waiting = Thread.ofPlatform().start(() -> manager.heartbeat("h1", beat));
                Await.until(() -> waiting.getState() == Thread.State.BLOCKED, "the heartbeat blocked on the lock");
                millis.addAndGet(4_000); // 9 s after the last heartbeat that got the lock, 4 s after arrival
                assertThat(manager.expireSilentHosts()).isZero();
            }
            waiting.join();
            assertThat(manager.host("h1").state()).isEqualTo("alive");

            millis.addAndGet(7_000); // now really silent for longer than the timeout
            assertThat(manager.expireSilentHosts()).isEqualTo(1);
            assertThat(manager.host("h1").state()).isEqualTo("failed");
        }
    }
    /**
     * Time the manager itself did not run (its detector thread ran late: a GC pause, a machine
     * starved by an enrolment wave) is nobody's silence: the agents' pings were waiting unread.
     * Once the detector runs on time again the host's real silence counts from where it stopped.
     */
    @Test
    void timeTheManagerStalledIsNobodysSilence() throws Exception {
        AtomicLong millis = new AtomicLong(1_000_000);
        AtomicLong nanos = new AtomicLong(0);
        InstantSource clock = () -> Instant.ofEpochMilli(millis.get());
        StateDir dir = new StateDir(tmp.resolve("state")).create();
        ManagerConfig config = ManagerConfig.defaults(dir).withImageDirs(List.of(dir.path().getParent()))
                .withHeartbeat(Duration.ofSeconds(1), Duration.ofSeconds(6)).withChunkSize(CHUNK);
        long period = Manager.detectorPeriod(config.heartbeatInterval()).toMillis();
        try (Manager manager = new Manager(config, StateStore.open(dir.database()),
                new ChunkManifestProvider(CHUNK, 1), new SimpleMeterRegistry(), clock, nanos::get)) {
            manager.registerHost("h1", "127.0.0.2:3260", null);
            manager.heartbeat("h1", new HeartbeatRequest("h1", Map.of()));
            assertThat(manager.expireSilentHosts()).isZero();

            // The manager stalls for 8 s: its detector's next pass comes 8 s late.
            millis.addAndGet(8_000);
            nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(8_000));
            assertThat(manager.expireSilentHosts()).isZero();
            assertThat(manager.host("h1").state()).isEqualTo("alive");

            // On time from now on: the host, still silent, is failed one timeout later.
            int passes = 0;
            int failed = 0;
            while (failed == 0 && passes < 100) {
                millis.addAndGet(period);
                nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(period));
                failed = manager.expireSilentHosts();
                passes++;
            }
            assertThat(failed).isEqualTo(1);
            assertThat(manager.host("h1").state()).isEqualTo("failed");
            // 8 s stalled minus the tolerated lateness (2 periods) credited: failed after 6 s - 2 periods.
            assertThat(passes * period).isBetween(6_000 - 2 * period, 6_000 + period);
        }
    }

    /**
     * A pass that finds several hosts silent fails them all in one commit (one etcd round trip
     * under the lock, not one per host), re-plans their tree once, and a restarted manager has
     * them failed and the tree without them.
     */
    @Test
    void onePassFailsEverySilentHostInOneCommit() throws Exception {
        AtomicLong millis = new AtomicLong(1_000_000);
        InstantSource clock = () -> Instant.ofEpochMilli(millis.get());
        StateDir dir = new StateDir(tmp.resolve("state")).create();
        ManagerConfig config = ManagerConfig.defaults(dir).withImageDirs(List.of(tmp))
                .withHeartbeat(Duration.ofSeconds(1), Duration.ofSeconds(6)).withChunkSize(CHUNK);
        AtomicLong commits = new AtomicLong();
        StateStore sqlite = StateStore.open(dir.database());
        StateStore counting = new StateStore() {
            @Override
            public dev.virtman.manager.store.StoredState load() {
                return sqlite.load();
            }

            @Override
            public void commit(final dev.virtman.manager.store.StateChange change) {
                commits.incrementAndGet();
                sqlite.commit(change);
            }

            @Override
            public void close() {
                sqlite.close();
            }
        };
        String image;
        try (Manager manager = new Manager(config, counting, new ChunkManifestProvider(CHUNK, 1),
                new SimpleMeterRegistry(), clock)) {
            image = manager.registerImage("base", dev.virtman.testing.RandomFiles.write(tmp.resolve("base.raw"),
                    4 * CHUNK, 3).toString()).id();
            for (int i = 0; i < 6; i++) {
                manager.registerHost("h" + i, "127.0.1." + (i + 2) + ":3260", null);
                manager.heartbeat("h" + i, new HeartbeatRequest("h" + i, Map.of(image, new HeartbeatRequest.ImageReport(0))));
            }
            assertThat(manager.tree(image).tree().size()).isEqualTo(6);
            millis.addAndGet(4_000);
            for (int i = 0; i < 2; i++) { // h0, h1 stay alive
                manager.heartbeat("h" + i, new HeartbeatRequest("h" + i, Map.of(image, new HeartbeatRequest.ImageReport(0))));
            }
            millis.addAndGet(3_000);
            long before = commits.get();
            assertThat(manager.expireSilentHosts()).isEqualTo(4);
            assertThat(commits.get() - before).isEqualTo(1);
            assertThat(manager.tree(image).tree().hosts()).containsExactlyInAnyOrder("h0", "h1");
        }
        try (Manager again = new Manager(config, StateStore.open(dir.database()), new ChunkManifestProvider(CHUNK, 1),
                new SimpleMeterRegistry(), clock)) {
            assertThat(again.tree(image).tree().hosts()).containsExactlyInAnyOrder("h0", "h1");
            for (int i = 2; i < 6; i++) {
                assertThat(again.host("h" + i).state()).isEqualTo("failed");
            }
        }
    }
}
