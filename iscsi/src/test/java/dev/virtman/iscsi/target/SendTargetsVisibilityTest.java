package dev.virtman.iscsi.target;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.testing.Commands;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SendTargets (RFC 7143 §12.3) lists to a discovery session only the targets its initiator may
 * log in to, checked with libiscsi's {@code iscsi-ls}. On 1ac25db every target was listed to
 * every initiator, tenants' volume targets included.
 */
@Tag("interop")
class SendTargetsVisibilityTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String OPEN = "iqn.2026-11.dev.virtman:open";
    private static final String ALLOWED = "iqn.2026-11.dev.virtman:for-alice";
    private static final String VOLUME = "iqn.2026-01.dev.virtman:volume.v1";
    private static final String ALICE = "iqn.2026-11.dev.virtman:alice";
    private static final String MALLORY = "iqn.2026-11.dev.virtman:mallory";

    @TempDir
    Path dir;

    @Test
    void discoveryListsOnlyWhatTheInitiatorMayLogInTo() throws Exception {
        Path image = Files.write(dir.resolve("disk.img"), new byte[1 << 20]);
        try (FileBlockDevice device = FileBlockDevice.open(image, false);
             IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
                     new InetSocketAddress("127.0.0.1", 0), List.of(
                     ExportedTarget.open(OPEN, luns(device, OPEN)),
                     new ExportedTarget(ALLOWED, luns(device, ALLOWED), null, Set.of(ALICE)),
                     new ExportedTarget(VOLUME, luns(device, VOLUME),
                             ChapConfig.oneWay("virtman-v1", "a-long-enough-secret"), Set.of()))))) {
            String portal = "iscsi://127.0.0.1:" + server.localAddress().getPort();
            assertThat(targets(portal, ALICE)).containsExactlyInAnyOrder(OPEN, ALLOWED);
            assertThat(targets(portal, MALLORY)).containsExactly(OPEN);
            // The volume stays reachable by name for the initiator given its CHAP secret.
            Commands.run(TIMEOUT, "iscsi-inq", "-i", MALLORY,
                    "iscsi://virtman-v1%a-long-enough-secret@127.0.0.1:" + server.localAddress().getPort() + "/"
                            + VOLUME + "/0").requireSuccess();
        }
    }

    private static LunTable luns(final FileBlockDevice device, final String iqn) {
        return new LunTable(List.of(new ScsiDisk(device, DiskIdentity.fromName(iqn))));
    }

    /** The target names {@code iscsi-ls} reports for {@code initiator}. */
    private static List<String> targets(final String portal, final String initiator) {
        String out = Commands.run(TIMEOUT, "iscsi-ls", "-i", initiator, portal).requireSuccess().output();
        return out.lines().filter(l -> l.startsWith("Target:"))
                .map(l -> l.substring("Target:".length(), l.indexOf(' '))).toList();
    }
}
