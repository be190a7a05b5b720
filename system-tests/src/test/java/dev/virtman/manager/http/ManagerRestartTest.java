package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** State survives a clean restart and a kill -9 of the manager process. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ManagerRestartTest {
    // In system-tests: it starts the manager as `virtman manager` in a child JVM (the cli module).

    private static final int HOSTS = 6;

    @TempDir
    Path tmp;

    /** Everything a client can see, for before/after comparison. */
    record Observed(List<ImageView> images, List<String> hosts, TreeView tree, List<Integer> profile) { }

    private static Observed populate(final ManagerClient client, final Path image) {
        ImageView img = client.registerImage("base", image.toString());
        for (int i = 0; i < HOSTS; i++) {
            client.registerHost("h" + i, "127.0.0." + (i + 2) + ":3260", new Labels("r" + i % 2, "z"));
            client.heartbeat("h" + i, new HeartbeatRequest(null, Map.of(img.id(), new HeartbeatRequest.ImageReport(i))));
        }
        client.putProfile(img.id(), List.of(4, 0, 7), "h0", false);
        return observe(client, img.id());
    }

    private static Observed observe(final ManagerClient client, final String imageId) {
        List<String> hosts = new ArrayList<>();
        for (HostView h : client.hosts()) {
            hosts.add(h.hostId() + "@" + h.address() + "/" + h.labels() + "/" + h.state() + "/" + h.images());
        }
        return new Observed(client.images(), hosts, client.tree(imageId), client.profile(imageId).chunks());
    }

    @Test
    void stateSurvivesACleanRestart() throws Exception {
        Path image = RandomFiles.write(tmp.resolve("disk.raw"), 9 * 4096, 5);
        ManagerConfig config = ManagerConfig.defaults(new StateDir(tmp.resolve("state")))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLimits(new TreeLimits(2, 2, 8))
                .withSource("127.0.0.1:3260", Locality.UNKNOWN)
                .withChunkSize(4096)
                .withImageDirs(List.of(tmp));
        Observed before;
        String token;
        String imageId;
        List<HeartbeatReply.Placement> placements = new ArrayList<>();
        try (ManagerServer server = ManagerServer.start(config)) {
            ManagerClient client = new ManagerClient(server.url(), server.token());
            before = populate(client, image);
            token = server.token();
            imageId = before.images().getFirst().id();
            for (int i = 0; i < HOSTS; i++) {
                placements.add(client.heartbeat("h" + i, heartbeat(imageId)).images().get(imageId));
            }
        }
        try (ManagerServer server = ManagerServer.start(config)) {
            assertThat(server.token()).isEqualTo(token);
            ManagerClient client = new ManagerClient(server.url(), server.token());
            assertThat(observe(client, imageId)).isEqualTo(before);
            // Agents carry on: same parent lists, nobody moved.
            for (int i = 0; i < HOSTS; i++) {
                assertThat(client.heartbeat("h" + i, heartbeat(imageId)).images().get(imageId)).isEqualTo(placements.get(i));
            }
            assertThat(client.tree(imageId)).isEqualTo(before.tree());
        }
    }

    private static HeartbeatRequest heartbeat(final String imageId) {
        return new HeartbeatRequest(null, Map.of(imageId, new HeartbeatRequest.ImageReport(1)));
    }

    @Test
    void stateSurvivesKillDashNineOfTheManagerProcess() throws Exception {
        Path image = RandomFiles.write(tmp.resolve("disk.raw"), 9 * 4096, 6);
        Path state = tmp.resolve("state");
        Process first = startManagerProcess(state);
        Observed before;
        try {
            ManagerClient client = awaitManager(first, state);
            before = populate(client, image);
        } finally {
            first.destroyForcibly(); // SIGKILL: no shutdown hook, no clean close
            first.waitFor(30, TimeUnit.SECONDS);
        }
        Process second = startManagerProcess(state);
        try {
            ManagerClient client = awaitManager(second, state);
            assertThat(observe(client, before.images().getFirst().id())).isEqualTo(before);
        } finally {
            second.destroyForcibly();
            second.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Process startManagerProcess(final Path state) throws Exception {
        Files.deleteIfExists(state.resolve(StateDir.URL));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "dev.virtman.cli.VirtmanCommand", "manager", "--listen", "127.0.0.1:0", "--state-dir", state.toString(),
                "--image-dir", state.getParent().toString(),
                "--chunk-size", "4K", "--fan-out", "2", "--heartbeat-interval", "1s", "--heartbeat-timeout", "60s");
        pb.redirectErrorStream(true);
        return pb.start();
    }

    private static ManagerClient awaitManager(final Process process, final Path state) throws Exception {
        File url = state.resolve(StateDir.URL).toFile();
        Await.until(() -> url.exists() || !process.isAlive(), Duration.ofSeconds(60), "the manager's URL file");
        if (!url.exists()) {
            throw new AssertionError("manager process exited " + process.exitValue() + ": "
                    + new String(process.getInputStream().readAllBytes()));
        }
        return ManagerClient.locate(null, null, state);
    }
}
