package dev.virtman.manager;

import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.StateDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.agent.ManagedAgent;
import dev.virtman.agent.ManagedAgentConfig;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.QemuImg;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager's source target ({@code --serve-source}) exports only to registered hosts. On
 * 1ac25db it had no CHAP and no allow list: {@code qemu-img convert iscsi://.../source.<id>/0}
 * from any initiator read the image (and, with any file registrable, the CHAP secrets). Now
 * QEMU's default initiator is refused and discovery lists nothing to it, while a managed agent
 * (its host registered) fetches through the source as before; a removed host is cut off.
 */
@Tag("interop")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SourceExportsAccessTest {
    private static final int CHUNK = 64 << 10;
    private static final int IMAGE_BYTES = 32 * CHUNK;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void onlyRegisteredHostsReadTheSourceWhileAgentsStillWork() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path image = RandomFiles.write(images.resolve("disk.raw"), IMAGE_BYTES, 11);
        int sourcePort = FreePorts.loopbackPort();
        ManagerConfig config = ManagerConfig.defaults(new StateDir(tmp.resolve("state")))
                .withImageDirs(List.of(images))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePort, Locality.UNKNOWN)
                .withHeartbeat(Duration.ofMillis(300), Duration.ofSeconds(3))
                .withChunkSize(CHUNK);
        try (ManagerServer server = ManagerServer.start(config);
             SourceExports source = SourceExports.start(server.manager(), new InetSocketAddress("127.0.0.1", sourcePort))) {
            ManagerClient client = new ManagerClient(server.url(), server.token());
            ImageView view = client.registerImage("disk", image.toString());
            source.reconcile();
            String portal = "iscsi://127.0.0.1:" + sourcePort;
            String lun = portal + "/" + view.sourceIqn() + "/0";

            Commands.Result stolen = QemuImg.convertToRaw(lun, tmp.resolve("stolen.raw"));
            assertThat(stolen.succeeded()).as("QEMU's own initiator name is no registered host: " + stolen.output())
                    .isFalse();
            assertThat(discover(portal, "iqn.2008-11.org.linux-kvm")).doesNotContain(view.sourceIqn());

            try (ManagedAgent agent = ManagedAgent.start(new ManagedAgentConfig(server.url(), server.token(), "host-a",
                    List.of("disk"), new InetSocketAddress("127.0.0.2", FreePorts.loopbackPort()), null,
                    tmp.resolve("cache"), 0, 0, null, TIMEOUT, Duration.ofSeconds(1)))) {
                assertThat(agent.agent().image(view.id()).parents()).containsExactly(lun);
                try (IscsiBlockDevice export = IscsiBlockDevice.open(IscsiUrl.parse(agent.agent().exportUrl(view.id())),
                        InitiatorOptions.defaults())) {
                    ByteBuffer all = ByteBuffer.allocate(IMAGE_BYTES);
                    export.read(0, all);
                    assertThat(all.array()).as("read through the agent, fetched from the source")
                            .isEqualTo(Files.readAllBytes(image));
                }
                assertThat(source.bytesServed()).isEqualTo(IMAGE_BYTES);
                source.reconcile();
                assertThat(QemuImg.convertToRaw(lun, tmp.resolve("stolen2.raw")).succeeded())
                        .as("still refused with a host registered").isFalse();
                assertThat(discover(portal, TargetNames.hostInitiator("host-a"))).contains(view.sourceIqn());
                assertThat(discover(portal, "iqn.2008-11.org.linux-kvm")).doesNotContain(view.sourceIqn());
            }

            InitiatorOptions asHostB = InitiatorOptions.defaults().withInitiatorName(TargetNames.hostInitiator("host-b"))
                    .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(10),
                            Duration.ofSeconds(3)); // give up re-logging in after the cut-off quickly
            client.registerHost("host-b", "127.0.0.3:3260", Labels.NONE);
            source.reconcile();
            try (IscsiBlockDevice disk = IscsiBlockDevice.open(IscsiUrl.parse(lun), asHostB)) {
                disk.read(0, ByteBuffer.allocate(CHUNK));
                client.removeHost("host-b");
                source.reconcile();
                assertThatThrownBy(() -> disk.read(CHUNK, ByteBuffer.allocate(CHUNK)))
                        .as("a removed host's session is closed").isInstanceOf(IOException.class);
            }
            assertThatThrownBy(() -> IscsiBlockDevice.open(IscsiUrl.parse(lun), asHostB)).isInstanceOf(IOException.class);
        }
    }

    /** libiscsi's {@code iscsi-ls} (SendTargets discovery) as {@code initiator}. */
    private static String discover(final String portal, final String initiator) {
        return Commands.run(TIMEOUT, "iscsi-ls", "-i", initiator, portal).output();
    }
}
