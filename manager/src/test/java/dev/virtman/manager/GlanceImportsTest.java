package dev.virtman.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.openstack.glance.TokenSource;
import dev.virtman.testing.GlanceProcess;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager's on-demand imports ({@code POST /v1/images} with a {@code glanceImageId}, what the
 * Cinder driver calls) against a real Glance ({@link GlanceProcess}: Debian glance-api, noauth).
 */
@Tag("interop")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class GlanceImportsTest {

    private static final int MIB = 1 << 20;
    private static final Duration IMPORT_TIMEOUT = Duration.ofMinutes(2);
    private static GlanceProcess glance;

    @TempDir
    Path tmp;
    private ManagerServer server;
    private ManagerClient client;

    @BeforeAll
    static void startGlance() {
        glance = GlanceProcess.shared();
    }

    @BeforeEach
    void startManager() throws IOException {
        server = ManagerServer.start(config());
        client = new ManagerClient(server.url(), server.token());
    }

    private ManagerConfig config() {
        return ManagerConfig.defaults(new StateDir(tmp.resolve("state")))
                .withImageDirs(List.of(tmp))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withGlance(new GlanceSettings(glance.url(), TokenSource.NONE));
    }

    @AfterEach
    void stopManager() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void concurrentRequestsImportOnceAndLaterOnesAreNoOps() throws Exception {
        Path file = RandomFiles.write(tmp.resolve("app.raw"), 3 * MIB + 5, 11);
        String glanceId = glance.upload("app image", "raw", file);

        List<ImageView> views;
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<ImageView>> calls = Stream.generate(() -> pool.submit(() ->
                    client.importFromGlance(glanceId, null, IMPORT_TIMEOUT))).limit(3).toList();
            views = calls.stream().map(f -> {
                try {
                    return f.get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
        } finally {
            pool.shutdownNow();
        }
        ImageView v = views.getFirst();
        assertThat(views).extracting(ImageView::id).containsOnly(v.id());
        assertThat(v.name()).isEqualTo("app-image");
        assertThat(v.glance().imageId()).isEqualTo(glanceId);
        assertThat(v.glance().version()).isEqualTo(1);
        assertThat(v.glance().osHashValue()).isEqualTo(glance.image(glanceId).path("os_hash_value").asText());
        assertThat(v.sizeBytes()).isEqualTo(Files.size(file));
        assertThat(Files.mismatch(Path.of(v.path()), file)).isEqualTo(-1L);
        assertThat(Path.of(v.path()).getParent()).isEqualTo(tmp.resolve("state").resolve(StateDir.IMAGES));

        ImageView again = client.importFromGlance(glanceId, null, IMPORT_TIMEOUT);
        assertThat(again.id()).isEqualTo(v.id());
        assertThat(client.images()).hasSize(1);
        assertThat(files(tmp.resolve("state/images"))).containsExactly(Path.of(v.path()));
    }

    @Test
    void aNewGlanceImageUnderTheSameNameIsTheNextVersionAndTheOldOneStays() throws Exception {
        String first = glance.upload("web", "raw", RandomFiles.write(tmp.resolve("web1.raw"), 2 * MIB, 21));
        String second = glance.upload("web", "raw", RandomFiles.write(tmp.resolve("web2.raw"), 2 * MIB, 22));

        ImageView v1 = client.importFromGlance(first, null, IMPORT_TIMEOUT);
        ImageView v2 = client.importFromGlance(second, null, IMPORT_TIMEOUT);

        assertThat(v1.name()).isEqualTo("web");
        assertThat(v2.name()).isEqualTo("web.v2");
        assertThat(v2.glance().series()).isEqualTo("web");
        assertThat(v2.glance().version()).isEqualTo(2);
        assertThat(v2.id()).isNotEqualTo(v1.id());
        assertThat(v2.sourceIqn()).isNotEqualTo(v1.sourceIqn());
        assertThat(client.image("web").id()).as("v1 is still registered under its name").isEqualTo(v1.id());
        assertThat(Path.of(v1.path())).exists();

        server.close();
        server = ManagerServer.start(config());
        client = new ManagerClient(server.url(), server.token());
        assertThat(client.image(v2.id()).glance()).as("origin survives a restart").isEqualTo(v2.glance());
        assertThat(client.importFromGlance(first, null, IMPORT_TIMEOUT).id()).isEqualTo(v1.id());
        assertThat(client.images()).hasSize(2);

        client.removeImage(v1.id());
        assertThat(Path.of(v1.path())).as("the manager's own download goes with its image").doesNotExist();
        assertThat(Path.of(v2.path())).exists();
    }

    @Test
    void corruptedDownloadIsRejectedWithNothingRegisteredOrLeftBehind() throws Exception {
        Path file = RandomFiles.write(tmp.resolve("bad.raw"), 2 * MIB, 31);
        String glanceId = glance.upload("bad", "raw", file);
        try (RandomAccessFile stored = new RandomAccessFile(glance.storedFile(glanceId).toFile(), "rw")) {
            stored.seek(MIB + 7);
            int b = stored.read();
            stored.seek(MIB + 7);
            stored.write(~b); // same size, one byte different

        }

        assertThatThrownBy(() -> client.importFromGlance(glanceId, null, IMPORT_TIMEOUT))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> {
                    assertThat(e.status()).isEqualTo(502);
                    assertThat(e.getMessage()).contains(glanceId).contains("does not match what Glance recorded")
                            .contains("sha512");
                });
        assertThat(client.images()).isEmpty();
        assertThat(files(tmp.resolve("state/images"))).isEmpty();
        assertThat(files(tmp.resolve("state/manifests"))).isEmpty();
    }

    @Test
    void unknownGlanceImageAndManagerWithoutGlanceAreClearErrors() throws Exception {
        assertThatThrownBy(() -> client.importFromGlance(UUID.randomUUID().toString(), null, IMPORT_TIMEOUT))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> {
                    assertThat(e.status()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("has no image");
                });
        try (ManagerServer plain = ManagerServer.start(ManagerConfig.defaults(new StateDir(tmp.resolve("plain")))
                .withImageDirs(List.of(tmp))
                .withListen(new InetSocketAddress("127.0.0.1", 0)))) {
            assertThatThrownBy(() -> new ManagerClient(plain.url(), plain.token())
                    .importFromGlance(UUID.randomUUID().toString(), null, IMPORT_TIMEOUT))
                    .hasMessageContaining("--glance-url");
        }
    }

    private static List<Path> files(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
