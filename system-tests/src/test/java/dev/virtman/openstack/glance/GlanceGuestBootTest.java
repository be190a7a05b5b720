package dev.virtman.openstack.glance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.agent.Agent;
import dev.virtman.agent.AgentConfig;
import dev.virtman.agent.ImageConfig;
import dev.virtman.boot.SourceTarget;
import dev.virtman.manager.GlanceSettings;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.testing.Commands;
import dev.virtman.testing.GlanceProcess;
import dev.virtman.testing.GuestImages;
import dev.virtman.testing.QemuProcess;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6, proof 1, end to end: the busybox test guest's root filesystem is uploaded to a real
 * Glance (Debian glance-api, noauth, file store) as qcow2; the manager imports it on demand
 * (download, sha512/md5 verification, qcow2 to raw, manifest); the source target exports it, an
 * agent re-exports it lazily under the image's versioned IQN, and QEMU (TCG) boots the guest from
 * a qcow2 overlay over that export. Then a changed image is uploaded under the same Glance name:
 * it becomes version 2 with its own id and IQN, and the first VM's overlay still boots version 1.
 */
@Tag("interop")
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class GlanceGuestBootTest {

    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration IMPORT_TIMEOUT = Duration.ofMinutes(4);
    private static final String HOST = "host-a";
    private static final String GLANCE_NAME = "busybox guest";

    @TempDir
    Path dir;

    @Test
    void imageImportedFromGlanceBootsAndAChangedImageBecomesVersionTwo() throws Exception {
        GuestImages guest = GuestImages.build();
        GlanceProcess glance = GlanceProcess.shared();
        Path qcow2 = dir.resolve("guest.qcow2");
        Commands.run(Duration.ofMinutes(2), "qemu-img", "convert", "-f", "raw", "-O", "qcow2",
                guest.rootfs().toString(), qcow2.toString()).requireSuccess();
        String v1Glance = glance.upload(GLANCE_NAME, "qcow2", qcow2);

        try (ManagerServer manager = ManagerServer.start(ManagerConfig.defaults(new StateDir(dir.resolve("state")))
                .withImageDirs(List.of(dir))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withGlance(new GlanceSettings(glance.url(), TokenSource.NONE)))) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView v1 = client.importFromGlance(v1Glance, null, IMPORT_TIMEOUT);
            assertThat(v1.name()).isEqualTo("busybox-guest");
            assertThat(v1.glance().diskFormat()).isEqualTo("qcow2");
            assertThat(Files.mismatch(Path.of(v1.path()), guest.rootfs())).as("qcow2 converted back to the raw bytes")
                    .isEqualTo(-1L);

            Path overlay = dir.resolve("vm1.qcow2");
            try (SourceTarget source = SourceTarget.export(new InetSocketAddress("127.0.0.1", 0), v1.sourceIqn(),
                    Path.of(v1.path()));
                 Agent agent = startAgent(client, v1, source)) {
                String export = agent.exportUrl(v1.name());
                assertThat(export).contains(v1.id());
                Commands.run(Duration.ofMinutes(1), "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                        "-b", export, overlay.toString(), Long.toString(v1.sizeBytes())).requireSuccess();
                bootToCompletion(guest, overlay);
                assertThat(source.bytesServed()).as("served lazily: the boot's working set, not the image")
                        .isPositive().isLessThan(v1.sizeBytes());

                // A new upload under the same Glance name: same guest plus 1 MiB, so a new hash.
                Path changed = dir.resolve("guest-v2.raw");
                Files.copy(guest.rootfs(), changed);
                Files.write(changed, new byte[1 << 20], StandardOpenOption.APPEND);
                String v2Glance = glance.upload(GLANCE_NAME, "raw", changed);
                ImageView v2 = client.importFromGlance(v2Glance, null, IMPORT_TIMEOUT);
                assertThat(v2.name()).isEqualTo("busybox-guest.v2");
                assertThat(v2.glance().version()).isEqualTo(2);
                assertThat(v2.id()).isNotEqualTo(v1.id());
                assertThat(v2.sourceIqn()).isNotEqualTo(v1.sourceIqn());
                assertThat(client.importFromGlance(v1Glance, null, IMPORT_TIMEOUT).id()).as("re-import: no-op")
                        .isEqualTo(v1.id());
                assertThat(client.images()).extracting(ImageView::id).containsExactlyInAnyOrder(v1.id(), v2.id());

                // The first VM's overlay still names version 1's export, which still serves it.
                assertThat(Commands.run(Duration.ofMinutes(1), "qemu-img", "info", "-U", overlay.toString())
                        .requireSuccess().output()).contains(TargetNames.agentIqn(HOST, v1.id()));
                bootToCompletion(guest, overlay);
            }
        }
    }

    /** An agent re-exporting {@code image} under its versioned IQN, manifest from the manager. */
    private Agent startAgent(final ManagerClient client, final ImageView image, final SourceTarget source)
            throws Exception {
        Path manifest = dir.resolve(image.id() + ".manifest");
        Files.write(manifest, client.manifest(image.id()));
        return Agent.start(AgentConfig.of(new ImageConfig(image.name(), List.of(source.url()), manifest,
                        TargetNames.agentIqn(HOST, image.id())),
                new InetSocketAddress("127.0.0.2", 0), null, dir.resolve("cache")));
    }

    private static void bootToCompletion(final GuestImages guest, final Path overlay) {
        try (QemuProcess vm = QemuProcess.boot(guest, overlay)) {
            assertThat(vm.awaitLine(GuestImages.UP_MARKER, BOOT_TIMEOUT)).startsWith(GuestImages.UP_LINE_DATA_OK);
            vm.awaitLine(GuestImages.DONE_MARKER, BOOT_TIMEOUT);
            vm.awaitExit(BOOT_TIMEOUT);
        }
    }
}
