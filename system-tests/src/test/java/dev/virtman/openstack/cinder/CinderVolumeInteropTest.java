package dev.virtman.openstack.cinder;

import dev.virtman.testing.Await;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.virtman.agent.ImageExport;
import dev.virtman.agent.ManagedAgent;
import dev.virtman.agent.ManagedAgentConfig;
import dev.virtman.manager.GlanceSettings;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.SourceExports;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.openstack.glance.TokenSource;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.CinderServices;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.GlanceProcess;
import dev.virtman.testing.GuestImages;
import dev.virtman.testing.ProjectPaths;
import dev.virtman.testing.QemuProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VirtMan Cinder driver ({@code openstack/cinder/virtman_cinder}) driven by the real Cinder
 * from Debian: {@code cinder-api}, {@code cinder-scheduler} and {@code cinder-volume} over a
 * private RabbitMQ, an image in a real {@code glance-api}, the manager serving as source target.
 * Through Cinder's REST API only: create a volume from the Glance image (the manager imports it
 * on demand), {@code os-initialize_connection} for compute host
 * {@code compute-1}, boot a QEMU guest straight from the returned iSCSI properties (CHAP),
 * {@code os-terminate_connection}, attach again and find the guest's write, boot again, and
 * delete. The image (Glance's copy, VirtMan's copy and the agent's cache) never changes, and
 * three volumes booted from the image on one agent fetch its boot data from the source once.
 */
@Tag("interop")
@Timeout(value = 25, unit = TimeUnit.MINUTES)
class CinderVolumeInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COMPUTE = "compute-1";
    private static final String COMPUTE_IP = "127.0.0.2";
    private static final Duration HEARTBEAT = Duration.ofMillis(500);
    private static final Duration CINDER_WAIT = Duration.ofMinutes(4);
    private static final Duration BOOT = Duration.ofMinutes(4);
    private static final Duration WAIT = Duration.ofMinutes(2);
    private static final int VOLUMES = 3;

    @TempDir
    Path dir;

    @Test
    void cinderCreatesAttachesAndDeletesCopyOnWriteVolumesOverAGlanceImage() throws Exception {
        GuestImages guest = GuestImages.build();
        try (GlanceProcess glance = GlanceProcess.start()) {
            String glanceId = glance.upload("virtman-guest", "raw", guest.rootfs());
            int sourcePort = FreePorts.loopbackPort();
            ManagerConfig managerConfig = ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withImageDirs(List.of(dir))
                    .withListen(new InetSocketAddress("127.0.0.1", 0))
                    .withSource("127.0.0.1:" + sourcePort, Locality.UNKNOWN)
                    .withHeartbeat(HEARTBEAT, HEARTBEAT.multipliedBy(20))
                    .withGlance(new GlanceSettings(glance.url(), TokenSource.NONE));
            try (ManagerServer manager = ManagerServer.start(managerConfig)) {
                ManagerClient client = new ManagerClient(manager.url(), manager.token());
                assertThat(client.images()).as("nothing imported before Cinder asks").isEmpty();
                Map<String, String> backend = Map.of(
                        "volume_driver", "virtman_cinder.driver.VirtmanDriver",
                        "volume_backend_name", CinderServices.BACKEND,
                        "virtman_manager_url", manager.url().toString(),
                        "virtman_api_token", manager.token(),
                        "virtman_export_timeout", "60");
                // The manager's own source target (virtman manager --serve-source) exports each
                // image as soon as it is imported.
                try (SourceExports source = SourceExports.start(manager.manager(),
                        new InetSocketAddress("127.0.0.1", sourcePort));
                     ManagedAgent agent = ManagedAgent.start(agentConfig(manager));
                     CinderServices cinder = CinderServices.start(glance.url(), backend,
                             ProjectPaths.root().resolve("openstack/cinder"))) {
                    List<String> volumes = new ArrayList<>();
                    // The driver's clone_image makes the manager import the Glance image on demand.
                    String first = createFromImage(cinder, glanceId, "vm-0");
                    volumes.add(first);
                    ImageView image = client.image(client.volume(first).imageId());
                    assertThat(image.glance()).as("imported from Glance").isNotNull();
                    Path imageFile = Path.of(image.path());
                    String imageHash = Checksums.sha256(imageFile);
                    assertThat(imageHash).isEqualTo(guest.rootfsSha256());

                    JsonNode data = initializeConnection(cinder, first);
                    assertThat(data.path("target_portal").asText()).startsWith(COMPUTE_IP + ":");
                    assertThat(data.path("auth_method").asText()).isEqualTo("CHAP");
                    String url = iscsiUrl(data);
                    bootAndWrite(guest, url);
                    long bootBytes = source.bytesServed();
                    assertThat(bootBytes).as("lazy: the boot read part of the image").isPositive()
                            .isLessThan(Files.size(imageFile));
                    terminateConnection(cinder, first);

                    // More volumes of the image on this agent boot without fetching anything again.
                    for (int i = 1; i < VOLUMES; i++) {
                        String id = createFromImage(cinder, glanceId, "vm-" + i);
                        volumes.add(id);
                        bootAndWrite(guest, iscsiUrl(initializeConnection(cinder, id)));
                        terminateConnection(cinder, id);
                    }
                    System.out.printf("CinderVolumeInteropTest: image %d bytes; first boot fetched %d from the source;"
                            + " after %d volumes booted: %d%n", Files.size(imageFile), bootBytes, VOLUMES,
                            source.bytesServed());
                    assertThat(source.bytesServed()).as("%d volumes booted; source bytes after the first boot: %d",
                            VOLUMES, bootBytes).isEqualTo(bootBytes);
                    assertThat(agent.volumes()).hasSize(VOLUMES);

                    // Reattach: the same LUN, the guest's file is in the volume, and it boots again.
                    JsonNode again = initializeConnection(cinder, first);
                    assertThat(again.path("target_iqn").asText()).isEqualTo(data.path("target_iqn").asText());
                    assertThat(readGuestFile(iscsiUrl(again))).isEqualTo(GuestImages.WRITTEN_TEXT);
                    bootAndWrite(guest, iscsiUrl(again));
                    terminateConnection(cinder, first);

                    // A blank volume (no image): zeros, writable.
                    ObjectNode blankBody = JSON.createObjectNode();
                    blankBody.putObject("volume").put("size", 1).put("name", "scratch");
                    String blank = cinder.call("POST", "/v3/volumes", blankBody.toString(), 202)
                            .path("volume").path("id").asText();
                    cinder.awaitVolumeStatus(blank, "available", CINDER_WAIT);
                    volumes.add(blank);
                    assertThat(client.volume(blank).imageId()).isNull();
                    String blankUrl = iscsiUrl(initializeConnection(cinder, blank));
                    String io = Commands.run(WAIT, null, List.of("qemu-io", "-f", "raw", "-c", "read -P 0 0 1M",
                            "-c", "write -P 0x5c 512 4096", "-c", "read -P 0x5c 512 4096", blankUrl))
                            .requireSuccess().output();
                    assertThat(io).doesNotContain("Pattern verification failed").contains("wrote 4096/4096");
                    terminateConnection(cinder, blank);

                    // The image never changed: VirtMan's file, Glance's copy, the agent's cache.
                    assertThat(Checksums.sha256(imageFile)).isEqualTo(imageHash);
                    assertThat(Checksums.sha256(glance.storedFile(glanceId))).isEqualTo(imageHash);
                    ImageExport base = agent.volumeImages().get(image.id());
                    assertThat(cachedChunksMatch(base, imageFile)).isTrue();

                    for (String id : volumes) {
                        cinder.call("DELETE", "/v3/volumes/" + id, null, 202);
                    }
                    for (String id : volumes) {
                        awaitTrue(() -> cinder.status("/v3/volumes/" + id) == 404, "Cinder deletes " + id);
                        awaitTrue(() -> gone(client, id), "VirtMan forgets " + id);
                        assertThat(dir.resolve("agent").resolve("volumes").resolve(id)).doesNotExist();
                    }
                    assertThat(agent.volumes()).isEmpty();
                }
            }
        }
    }

    private ManagedAgentConfig agentConfig(final ManagerServer manager) {
        return new ManagedAgentConfig(manager.url(), manager.token(), COMPUTE, List.of(),
                new InetSocketAddress(COMPUTE_IP, FreePorts.loopbackPort()), null, dir.resolve("agent"),
                0, 0, null, WAIT, Duration.ofSeconds(1));
    }

    private static String createFromImage(final CinderServices cinder, final String glanceId, final String name) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("volume").put("size", 1).put("imageRef", glanceId).put("name", name);
        String id = cinder.call("POST", "/v3/volumes", body.toString(), 202).path("volume").path("id").asText();
        JsonNode v = cinder.awaitVolumeStatus(id, "available", CINDER_WAIT);
        assertThat(v.path("bootable").asText()).isEqualTo("true");
        return id;
    }

    private static JsonNode initializeConnection(final CinderServices cinder, final String id) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("os-initialize_connection").set("connector", connector());
        JsonNode info = cinder.call("POST", "/v3/volumes/" + id + "/action", body.toString(), 200)
                .path("connection_info");
        assertThat(info.path("driver_volume_type").asText()).isEqualTo("iscsi");
        return info.path("data");
    }

    private static void terminateConnection(final CinderServices cinder, final String id) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("os-terminate_connection").set("connector", connector());
        cinder.call("POST", "/v3/volumes/" + id + "/action", body.toString(), 202);
    }

    /** What os-brick reports for a compute node. */
    private static ObjectNode connector() {
        return JSON.createObjectNode().put("host", COMPUTE).put("ip", COMPUTE_IP)
                .put("initiator", "iqn.1993-08.org.debian:01:compute-1").put("multipath", false)
                .put("platform", "x86_64").put("os_type", "linux");
    }

    /** QEMU's iscsi:// URL from Cinder's connection properties (how Nova's libvirt driver would use them). */
    private static String iscsiUrl(final JsonNode data) {
        return "iscsi://" + data.path("auth_username").asText() + "%" + data.path("auth_password").asText() + "@"
                + data.path("target_portal").asText() + "/" + data.path("target_iqn").asText() + "/"
                + data.path("target_lun").asInt();
    }

    /** Boots the guest from the volume: it checks its data, writes a file, syncs and powers off. */
    private static void bootAndWrite(final GuestImages guest, final String url) {
        try (QemuProcess vm = QemuProcess.bootDrive(guest, "file=" + url + ",if=virtio,format=raw,cache=writeback")) {
            assertThat(vm.awaitLine(GuestImages.UP_MARKER, BOOT)).startsWith(GuestImages.UP_LINE_DATA_OK);
            vm.awaitLine(GuestImages.DONE_MARKER, BOOT);
            vm.awaitExit(BOOT);
        }
    }

    /** Copies the volume out over iSCSI and reads the guest's file from its ext4 (debugfs). */
    private String readGuestFile(final String url) throws Exception {
        Path copy = dir.resolve("volume-copy.raw");
        Commands.run(WAIT, null, List.of("qemu-img", "convert", "-f", "raw", "-O", "raw", url, copy.toString()))
                .requireSuccess();
        String text = Commands.run(WAIT, null, List.of("debugfs", "-R", "cat " + GuestImages.WRITTEN_FILE,
                copy.toString())).requireSuccess().output();
        Files.delete(copy);
        return text.lines().filter(l -> l.contains(GuestImages.WRITTEN_TEXT)).findFirst().orElse(text).strip();
    }

    /** Every chunk the agent's cache holds equals the image's bytes there. */
    private static boolean cachedChunksMatch(final ImageExport base, final Path imageFile) throws Exception {
        byte[] image = Files.readAllBytes(imageFile);
        ByteBuffer all = ByteBuffer.allocate(image.length);
        base.cache().read(0, all);
        return java.util.Arrays.equals(all.array(), image);
    }

    private static boolean gone(final ManagerClient client, final String id) {
        try {
            client.volume(id);
            return false;
        } catch (ManagerClientException e) {
            return e.status() == 404;
        }
    }

    private static void awaitTrue(final BooleanSupplier condition, final String what) throws InterruptedException {
        Await.until(condition, WAIT, what);
    }
}
