package dev.virtman.manager;

import dev.virtman.manager.api.StateDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.volume.VolumeStore;
import dev.virtman.testing.RandomFiles;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What the manager refuses with 422 over its REST API, each accepted on 1ac25db: image files
 * outside the image directories (the state directory's database, token and CHAP secrets,
 * {@code /etc/shadow}, links leading there), NUL in paths and names (500 there, the NUL written to
 * the log), absurd volume sizes, host addresses outside the host networks.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdmissionTest {
    private static final int IMAGE_BYTES = 8 * 4096;

    @TempDir
    Path tmp;

    ManagerServer server;
    ManagerClient client;
    Path state;
    Path images;
    Path elsewhere;
    ListAppender<ILoggingEvent> log;

    @BeforeEach
    void start() throws Exception {
        state = tmp.resolve("state");
        images = Files.createDirectories(tmp.resolve("images"));
        elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        server = ManagerServer.start(ManagerConfig.defaults(new StateDir(state))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withChunkSize(4096)
                .withImageDirs(List.of(images)));
        client = new ManagerClient(server.url(), server.token());
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(log);
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
        server.close();
    }

    @Test
    void imagesAreTakenOnlyFromImageDirectories() throws Exception {
        Path good = RandomFiles.write(images.resolve("disk.raw"), IMAGE_BYTES, 1);
        ImageView view = client.registerImage("disk", good.toString());
        assertThat(view.path()).isEqualTo(good.toRealPath().toString());
        // The manager's own imports directory is always an image directory.
        Path imported = RandomFiles.write(Files.createDirectories(state.resolve(StateDir.IMAGES)).resolve("own.raw"),
                IMAGE_BYTES, 2);
        client.registerImage("own", imported.toString());

        Path volumes = state.resolve(VolumeStore.FILE);
        assertThat(volumes).exists();
        refused(() -> client.registerImage("db", volumes.toString()), "not under an image directory");
        refused(() -> client.registerImage("db2", state.resolve(StateDir.DATABASE).toString()), "image directory");
        refused(() -> client.registerImage("token", state.resolve(StateDir.TOKEN).toString()), "image directory");
        refused(() -> client.registerImage("state", state.toString()), "not a readable regular file");
        refused(() -> client.registerImage("shadow", "/etc/shadow"), "image directory");
        Path outside = RandomFiles.write(elsewhere.resolve("other.raw"), IMAGE_BYTES, 3);
        refused(() -> client.registerImage("other", outside.toString()), "image directory");
        // A symlink in an image directory leading out of it, and ".." tricks, are judged by the real path.
        Path link = Files.createSymbolicLink(images.resolve("link.raw"), volumes);
        refused(() -> client.registerImage("link", link.toString()), "really " + volumes.toRealPath());
        refused(() -> client.registerImage("dots", images + "/../state/" + VolumeStore.FILE), "image directory");
        // A symlinked directory inside the imports directory that points at the state directory.
        Path stateLink = Files.createSymbolicLink(state.resolve(StateDir.IMAGES).resolve("up"), state);
        refused(() -> client.registerImage("up", stateLink.resolve(VolumeStore.FILE).toString()), "image directory");
        // A hard link to the CHAP secrets inside an image directory: the same file under another name.
        Path hard = Files.createLink(state.resolve(StateDir.IMAGES).resolve("hard.raw"), volumes);
        refused(() -> client.registerImage("hard", hard.toString()), "own state files");
        assertThat(client.images()).extracting(ImageView::name).containsExactlyInAnyOrder("disk", "own");
    }

    @Test
    void aNulInAPathOrANameIsA422AndNeverReachesTheLog() throws Exception {
        RandomFiles.write(images.resolve("disk.raw"), IMAGE_BYTES, 4);
        ImageView disk = client.registerImage("disk", images.resolve("disk.raw").toString());
        client.registerHost("h1", "127.0.0.2:3260", Labels.NONE);

        refused(() -> client.registerImage("nul", images.resolve("disk.raw") + "\0.raw"), "control character");
        refused(() -> client.registerImage("nul\0name", images.resolve("disk.raw").toString()), "image name");
        refused(() -> client.registerHost("h\0", "127.0.0.3:3260", Labels.NONE), "hostId");
        refused(() -> client.registerHost("h2", "127.0.0.3\0:3260", Labels.NONE), "control character");
        refused(() -> client.registerHost("h3", "127.0.0.4:3260", new Labels("r\0", "z")), "labels.rack");
        refused(() -> client.createVolume(new CreateVolumeRequest("v1", "name\0", disk.id(), null, 0)),
                "control character");
        refused(() -> client.createVolume(new CreateVolumeRequest("v\0", "v", disk.id(), null, 0)), "volume id");
        refused(() -> client.orderVm("h1", new VmOrder("vm1", disk.id(), "/boot/vmlinuz\0", "/boot/initrd", "",
                256, "up", 60, VmOrder.RUNNING)), "control character");
        assertThat(client.volumes()).isEmpty();
        for (ILoggingEvent e : log.list) {
            assertThat(e.getFormattedMessage()).doesNotContain("\0");
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                assertThat(t.getMessage() == null ? "" : t.getMessage()).doesNotContain("\0");
            }
        }
    }

    @Test
    void volumeSizesAreBounded() throws Exception {
        RandomFiles.write(images.resolve("disk.raw"), IMAGE_BYTES, 5);
        client.registerImage("disk", images.resolve("disk.raw").toString());
        refused(() -> client.createVolume(new CreateVolumeRequest("huge", "huge", null, null, 1L << 62)),
                "--max-volume-size");
        refused(() -> client.createVolume(new CreateVolumeRequest("over", "over", "disk", null,
                Admission.DEFAULT_MAX_VOLUME_BYTES + 512)), "outside");
        refused(() -> client.createVolume(new CreateVolumeRequest("neg", "neg", null, null, -512)), "outside");
        assertThat(client.createVolume(new CreateVolumeRequest("max", "max", null, null,
                Admission.DEFAULT_MAX_VOLUME_BYTES)).sizeBytes()).isEqualTo(Admission.DEFAULT_MAX_VOLUME_BYTES);
    }

    @Test
    void hostAddressesMustBeInTheHostNetworks() {
        refused(() -> client.registerHost("public", "8.8.8.8:3260", Labels.NONE), "host networks");
        refused(() -> client.registerHost("mapped", "[::ffff:8.8.8.8]:3260", Labels.NONE), "host networks");
        refused(() -> client.registerHost("v6", "[2001:4860:4860::8888]:3260", Labels.NONE), "host networks");
        refused(() -> client.registerHost("any", "0.0.0.0:3260", Labels.NONE), "not the address of one host");
        refused(() -> client.registerHost("mcast", "224.0.0.1:3260", Labels.NONE), "not the address of one host");
        refused(() -> client.registerHost("named", "example.com:3260", Labels.NONE), "must be an IP address");
        for (String ok : List.of("127.0.0.2:3260", "10.1.2.3:3260", "172.31.255.1:3260", "192.168.7.9:3260",
                "100.64.0.9:3260", "[fd00::5]:3260", "[::1]:3260")) {
            client.registerHost("h" + Math.abs(ok.hashCode()), ok, Labels.NONE);
        }
        assertThat(client.hosts()).hasSize(7);
    }

    @Test
    void configuredHostNetworksReplaceTheDefault() throws Exception {
        server.close();
        server = ManagerServer.start(ManagerConfig.defaults(new StateDir(tmp.resolve("state2")))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withAdmission(Admission.DEFAULT.withHostNetworks(new HostNetworks(List.of("203.0.113.0/24")))
                        .withMaxVolumeBytes(1 << 20)));
        client = new ManagerClient(server.url(), server.token());
        client.registerHost("public", "203.0.113.7:3260", Labels.NONE);
        refused(() -> client.registerHost("private", "10.0.0.1:3260", Labels.NONE), "203.0.113.0/24");
        refused(() -> client.createVolume(new CreateVolumeRequest("v", "v", null, null, 2 << 20)), "outside 0..1048576");
        assertThatThrownBy(() -> new HostNetworks(List.of("10.0.0.0/33"))).hasMessageContaining("prefix");
        assertThatThrownBy(() -> new HostNetworks(List.of("example.com/8"))).hasMessageContaining("IP address");
    }

    private static void refused(final ThrowingCallable call, final String why) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ManagerClientException.class, e -> {
            assertThat(e.status()).as(e.getMessage()).isEqualTo(422);
            assertThat(e.getMessage()).contains(why);
        });
    }
}
