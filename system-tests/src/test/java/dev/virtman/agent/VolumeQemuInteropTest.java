package dev.virtman.agent;

import dev.virtman.testing.Await;
import dev.virtman.block.TestImages;
import dev.virtman.boot.SourceTarget;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.VolumeConnection;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writable copy-on-write volumes end to end against QEMU's iscsi:// driver (qemu-io): the manager
 * places a volume on the connecting host, that host's agent (started with no images) joins the
 * image's tree and exports the volume with CHAP; QEMU writes and reads back through it, the writes
 * survive an agent restart, never reach the image or its cache, and deleting the volume removes
 * its files. N volumes of one image fetch each image chunk from the source once.
 */
@Tag("interop")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class VolumeQemuInteropTest {
    private static final int CHUNK = 64 << 10;
    private static final long IMAGE_SIZE = 32L * CHUNK;
    private static final long VOLUME_SIZE = IMAGE_SIZE + 4L * CHUNK;
    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration QEMU = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void qemuWritesPersistAcrossAnAgentRestartAndNeverReachTheImage() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), IMAGE_SIZE, 3);
        String imageHash = Checksums.sha256(image);
        int sourcePort = FreePorts.loopbackPort();
        try (ManagerServer manager = ManagerServer.start(managerConfig(sourcePort))) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView view = client.registerImage("disk", image.toString());
            try (SourceTarget source = SourceTarget.start(new InetSocketAddress("127.0.0.1", sourcePort), view.id(), image)) {
                int portal = FreePorts.loopbackPort();
                VolumeConnection c;
                try (ManagedAgent agent = ManagedAgent.start(config(manager, portal))) {
                    client.createVolume(new CreateVolumeRequest("vol-1", "test", "disk", null, VOLUME_SIZE));
                    assertThat(client.volume("vol-1").status()).isEqualTo("pending");
                    c = connect(client, "vol-1");
                    assertThat(c.hostId()).isEqualTo("host-a");
                    assertThat(c.portal()).isEqualTo("127.0.0.2:" + portal);

                    qemuIo(c, "write -P 0xab 4096 8192", "write -P 0xcd " + (IMAGE_SIZE + CHUNK) + " 512")
                            .requireSuccess();
                    qemuIo(c, "read -P 0xab 4096 8192", "read -P 0 0 4096",
                            "read -P 0xcd " + (IMAGE_SIZE + CHUNK) + " 512").requireSuccess();
                    Commands.Result wrong = qemuIo(new VolumeConnection(c.volumeId(), c.hostId(), c.portal(), c.iqn(),
                            c.lun(), c.authMethod(), c.authUsername(), "not-the-secret-123", true), "read 0 512");
                    assertThat(wrong.succeeded()).as("a wrong CHAP secret is refused").isFalse();
                    assertThat(agent.volumes().get("vol-1").overlay().writtenGrains()).isEqualTo(2);
                }
                try (ManagedAgent agent = ManagedAgent.start(config(manager, portal))) {
                    Await.until(() -> agent.volumes().containsKey("vol-1"), WAIT, "the restarted agent exports the volume");
                    qemuIo(c, "read -P 0xab 4096 8192", "read -P 0xcd " + (IMAGE_SIZE + CHUNK) + " 512")
                            .requireSuccess();
                    // The image's shared cache holds the image, untouched by the volume's writes.
                    ImageExport base = agent.volumeImages().get(view.id());
                    ByteBuffer all = ByteBuffer.allocate((int) IMAGE_SIZE);
                    base.cache().read(0, all);
                    assertThat(all.array()).isEqualTo(Files.readAllBytes(image));

                    client.deleteVolume("vol-1");
                    Await.until(() -> gone(client, "vol-1"), WAIT, "the manager forgets the volume once its agent removed it");
                    assertThat(dir.resolve("cache-host-a").resolve(VolumeHost.VOLUMES_DIR).resolve("vol-1")).doesNotExist();
                    assertThat(qemuIo(c, "read 0 512").succeeded()).as("the deleted volume's target is gone").isFalse();
                }
                assertThat(Checksums.sha256(image)).isEqualTo(imageHash);
            }
        }
    }

    @Test
    void volumesOfOneImageOnOneAgentFetchEachChunkOnce() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), IMAGE_SIZE, 4);
        int sourcePort = FreePorts.loopbackPort();
        int volumes = 4;
        try (ManagerServer manager = ManagerServer.start(managerConfig(sourcePort))) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView view = client.registerImage("disk", image.toString());
            try (SourceTarget source = SourceTarget.start(new InetSocketAddress("127.0.0.1", sourcePort), view.id(), image);
                 ManagedAgent agent = ManagedAgent.start(config(manager, FreePorts.loopbackPort()))) {
                List<VolumeConnection> connections = new ArrayList<>();
                for (int i = 0; i < volumes; i++) {
                    client.createVolume(new CreateVolumeRequest("vol-" + i, null, view.id(), "host-a", 0));
                }
                for (int i = 0; i < volumes; i++) {
                    connections.add(connect(client, "vol-" + i));
                }
                byte[] expected = Files.readAllBytes(image);
                for (VolumeConnection c : connections) {
                    try (IscsiBlockDevice d = IscsiBlockDevice.open(IscsiUrl.parse(url(c, false)),
                            InitiatorOptions.defaults().withChap(ChapConfig.oneWay(c.authUsername(), c.authPassword())))) {
                        ByteBuffer all = ByteBuffer.allocate((int) IMAGE_SIZE);
                        d.read(0, all);
                        assertThat(all.array()).isEqualTo(expected);
                    }
                }
                assertThat(source.bytesServed()).as("one image's worth from the source for %d volumes", volumes)
                        .isEqualTo(IMAGE_SIZE);
            }
        }
    }

    /**
     * A volume export is observable like an image export: meters tagged with the volume id
     * (commands, bytes read and written, grains written) in the agent's Prometheus registry, the
     * first read of each initiator, and reads drawn from the agent's downstream cap. Its meters go
     * when the volume is deleted.
     */
    @Test
    void aVolumeExportHasMetersFirstReadsAndTheDownstreamCap() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), IMAGE_SIZE, 5);
        int sourcePort = FreePorts.loopbackPort();
        long cap = 1L << 20;
        String vm = "iqn.2026-11.dev.virtman:vm.metered";
        try (ManagerServer manager = ManagerServer.start(managerConfig(sourcePort))) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView view = client.registerImage("disk", image.toString());
            try (SourceTarget source = SourceTarget.start(new InetSocketAddress("127.0.0.1", sourcePort), view.id(), image);
                 ManagedAgent agent = ManagedAgent.start(config(manager, FreePorts.loopbackPort(), cap))) {
                client.createVolume(new CreateVolumeRequest("vol-m", null, view.id(), "host-a", VOLUME_SIZE));
                VolumeConnection c = connect(client, "vol-m");
                VolumeExport volume = agent.volumes().get("vol-m");
                qemuIo(c, "write -P 0xab 0 65536").requireSuccess();
                VolumeExport.Traffic afterWrite = volume.traffic();
                assertThat(afterWrite.bytesWritten()).isEqualTo(65536);
                assertThat(volume.firstReads().of(vm)).as("this initiator has not read yet").isEmpty();

                Instant before = Instant.now();
                long start = System.nanoTime();
                byte[] all = new byte[(int) VOLUME_SIZE];
                try (IscsiBlockDevice d = IscsiBlockDevice.open(IscsiUrl.parse(url(c, false)), InitiatorOptions.defaults()
                        .withInitiatorName(vm).withChap(ChapConfig.oneWay(c.authUsername(), c.authPassword())))) {
                    d.read(0, ByteBuffer.wrap(all));
                }
                long nanos = System.nanoTime() - start;

                assertThat(all[0]).isEqualTo((byte) 0xab);
                VolumeExport.Traffic afterRead = volume.traffic();
                assertThat(afterRead.bytesRead() - afterWrite.bytesRead()).isEqualTo(VOLUME_SIZE);
                assertThat(afterRead.commands()).isGreaterThan(afterWrite.commands());
                assertThat(volume.firstReads().of(vm)).hasValueSatisfying(t -> assertThat(t).isAfterOrEqualTo(
                        before.truncatedTo(ChronoUnit.MILLIS)));
                // At 1 MiB/s with a tenth of a second of burst, 2.25 MiB cannot pass in under 2 s.
                assertThat(nanos).as("reads drawn from the downstream cap")
                        .isGreaterThan(TimeUnit.MILLISECONDS.toNanos((VOLUME_SIZE - cap / 10) * 1000 / cap - 100));
                String scrape = agent.agent().registry().scrape();
                assertThat(scrape)
                        .contains("virtman_volume_read_bytes_total{volume=\"vol-m\"} " + (double) afterRead.bytesRead())
                        .contains("virtman_volume_written_bytes_total{volume=\"vol-m\"} 65536.0")
                        .contains("virtman_volume_commands_total{volume=\"vol-m\"} " + (double) afterRead.commands())
                        .contains("virtman_volume_written_grains{volume=\"vol-m\"} 1.0");

                client.deleteVolume("vol-m");
                Await.until(() -> gone(client, "vol-m"), WAIT, "the agent removes the volume");
                assertThat(agent.agent().registry().scrape()).as("a deleted volume leaves no series")
                        .doesNotContain("volume=\"vol-m\"");
            }
        }
    }

    private ManagerConfig managerConfig(final int sourcePort) {
        return ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withImageDirs(List.of(dir))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePort, Locality.UNKNOWN)
                .withHeartbeat(HEARTBEAT, HEARTBEAT.multipliedBy(20))
                .withChunkSize(CHUNK);
    }

    private ManagedAgentConfig config(final ManagerServer manager, final int portal) {
        return config(manager, portal, 0);
    }

    private ManagedAgentConfig config(final ManagerServer manager, final int portal, final long downstreamCap) {
        return new ManagedAgentConfig(manager.url(), manager.token(), "host-a", List.of(),
                new InetSocketAddress("127.0.0.2", portal), null, dir.resolve("cache-host-a"),
                0, downstreamCap, null, WAIT, Duration.ofSeconds(1));
    }

    /** Connects as host-a and waits until its agent exports the volume. */
    private static VolumeConnection connect(final ManagerClient client, final String id) throws InterruptedException {
        VolumeConnector host = new VolumeConnector("host-a", null, "iqn.1994-05.com.redhat:test");
        Await.until(() -> client.connectVolume(id, host).exported(), WAIT, "host-a's agent exports " + id);
        return client.connectVolume(id, host);
    }

    private static boolean gone(final ManagerClient client, final String id) {
        try {
            client.volume(id);
            return false;
        } catch (ManagerClientException e) {
            return e.status() == 404;
        }
    }

    private static String url(final VolumeConnection c, final boolean withChap) {
        String auth = withChap ? c.authUsername() + "%" + c.authPassword() + "@" : "";
        return "iscsi://" + auth + c.portal() + "/" + c.iqn() + "/" + c.lun();
    }

    private static Commands.Result qemuIo(final VolumeConnection c, final String... ops) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String op : ops) {
            cmd.add("-c");
            cmd.add(op);
        }
        cmd.add(url(c, true));
        Commands.Result r = Commands.run(QEMU, null, cmd);
        // qemu-io reports a failed pattern check on stdout and still exits 0.
        if (r.succeeded() && r.output().contains("Pattern verification failed")) {
            throw new AssertionError("pattern mismatch: " + r.describe());
        }
        return r;
    }

}
