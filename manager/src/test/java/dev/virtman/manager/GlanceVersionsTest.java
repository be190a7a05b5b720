package dev.virtman.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the manager registers files imported from Glance ({@code POST /v1/images {path, glance}}):
 * no-op re-registration, versions within a series, identical content, bad series names. The
 * origins here are plain data; the interop tests fetch real ones from glance-api.
 */
class GlanceVersionsTest {

    private static final String URL = "http://glance.example:9292";

    @TempDir
    Path tmp;
    private ManagerServer server;
    private ManagerClient client;

    @BeforeEach
    void start() throws IOException {
        server = ManagerServer.start(ManagerConfig.defaults(new StateDir(tmp.resolve("state")))
                .withImageDirs(List.of(tmp))
                .withListen(new InetSocketAddress("127.0.0.1", 0)));
        client = new ManagerClient(server.url(), server.token());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static GlanceOrigin origin(final String glanceId, final String hash, final String series) {
        return new GlanceOrigin(URL, glanceId, "Ubuntu 24.04", "qcow2", "sha512", hash, "md5-" + hash, series, 0);
    }

    @Test
    void sameGlanceImageIsANoOpAndANewOneIsTheNextVersion() throws Exception {
        Path a = file("a.raw", 1);
        ImageView v1 = client.registerGlanceImage(a.toString(), origin("11111111-1111-1111-1111-111111111111", "aa", "ubuntu"));
        ImageView again = client.registerGlanceImage(file("a-copy.raw", 1).toString(),
                origin("11111111-1111-1111-1111-111111111111", "aa", "ubuntu"));
        ImageView v2 = client.registerGlanceImage(file("b.raw", 2).toString(),
                origin("22222222-2222-2222-2222-222222222222", "bb", "ubuntu"));
        ImageView v3 = client.registerGlanceImage(file("c.raw", 3).toString(),
                origin("33333333-3333-3333-3333-333333333333", "cc", "ubuntu"));

        assertThat(v1.name()).isEqualTo("ubuntu");
        assertThat(v1.glance().version()).isEqualTo(1);
        assertThat(again.id()).isEqualTo(v1.id());
        assertThat(again.path()).as("the first file stays registered").isEqualTo(a.toString());
        assertThat(v2.name()).isEqualTo("ubuntu.v2");
        assertThat(v3.name()).isEqualTo("ubuntu.v3");
        assertThat(v3.glance().series()).isEqualTo("ubuntu");
        assertThat(client.images()).hasSize(3);

        client.removeImage("ubuntu.v2");
        ImageView v4 = client.registerGlanceImage(file("d.raw", 4).toString(),
                origin("44444444-4444-4444-4444-444444444444", "dd", "ubuntu"));
        assertThat(v4.name()).as("versions only grow, a removed one is not reused").isEqualTo("ubuntu.v4");
        assertThat(Path.of(v2.path())).as("a file outside the manager's images/ is not the manager's to delete")
                .exists();
    }

    @Test
    void identicalContentFromAnotherGlanceImageReturnsTheExistingImage() throws Exception {
        ImageView first = client.registerGlanceImage(file("x.raw", 7).toString(),
                origin("55555555-5555-5555-5555-555555555555", "ee", "x"));
        ImageView same = client.registerGlanceImage(file("y.raw", 7).toString(),
                origin("66666666-6666-6666-6666-666666666666", "ff", "y"));

        assertThat(same.id()).isEqualTo(first.id());
        assertThat(same.glance().imageId()).isEqualTo("55555555-5555-5555-5555-555555555555");
        assertThat(client.images()).hasSize(1);
    }

    @Test
    void aSeriesNameTakenByAFileImageOrUnusableIsRejected() throws Exception {
        client.registerImage("web", file("plain.raw", 8).toString());
        assertThatThrownBy(() -> client.registerGlanceImage(file("w.raw", 9).toString(),
                origin("77777777-7777-7777-7777-777777777777", "77", "web")))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThatThrownBy(() -> client.registerGlanceImage(file("w2.raw", 10).toString(),
                origin("88888888-8888-8888-8888-888888888888", "88", "bad name/x")))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(422));
        assertThat(client.images()).extracting(ImageView::name).containsExactly("web");
    }

    @Test
    void seriesNamesAreDerivedFromGlanceNames() {
        assertThat(GlanceOrigin.seriesFor("Ubuntu 24.04 LTS (cloud)", "9c1e2d34-5f6a")).isEqualTo("Ubuntu-24.04-LTS-cloud");
        assertThat(GlanceOrigin.seriesFor("  ", "9c1e2d34-5f6a")).isEqualTo("glance-9c1e2d34");
        assertThat(GlanceOrigin.seriesFor(null, "9c1e2d34-5f6a")).isEqualTo("glance-9c1e2d34");
        assertThat(GlanceOrigin.seriesFor("x".repeat(300), "id")).hasSize(GlanceOrigin.MAX_SERIES_CHARS);
        assertThat(GlanceOrigin.versionName("s", 1)).isEqualTo("s");
        assertThat(GlanceOrigin.versionName("s", 12)).isEqualTo("s.v12");
    }

    private Path file(final String name, final long seed) throws IOException {
        return RandomFiles.write(tmp.resolve(name), 256 << 10, seed);
    }
}
