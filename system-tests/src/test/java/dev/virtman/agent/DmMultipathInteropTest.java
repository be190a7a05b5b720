package dev.virtman.agent;

import static dev.virtman.testing.GuestIscsi.q;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.boot.LoopbackPorts;
import dev.virtman.boot.SourceTarget;
import dev.virtman.boot.VirtmanAgentProcess;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.GuestIscsi;
import dev.virtman.testing.GuestShell;
import dev.virtman.testing.LinuxStackGuest;
import dev.virtman.testing.RandomFiles;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * dm-multipath in a Debian cloud-kernel guest over two VirtMan agents (the paper's parent and
 * uncle: two agents that export the same image) as their own JVMs, managed by a manager with a
 * source target, all on the host's loopback. Both agents' LUNs carry the same SCSI identity (VPD
 * pages 0x80 and 0x83 derived from the image), so {@code multipathd} folds the two iSCSI disks
 * into one map; {@code kill -9} of one agent in the middle of a {@code dd} of the whole map: the
 * kernel fails the path, dm-multipath retries on the other, and the read completes with the
 * image's checksum.
 */
@Tag("interop")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class DmMultipathInteropTest {
    private static final int IMAGE_BYTES = 32 << 20;
    private static final Duration STEP = Duration.ofMinutes(3);
    /** How long the kernel holds I/O on a dead path before failing it up to dm-multipath. */
    private static final String REPLACEMENT_TIMEOUT = "10";

    @TempDir
    Path work;

    @Test
    void oneMapOverTwoAgentsSurvivesKillingOneDuringARead() throws Exception {
        Path image = RandomFiles.write(work.resolve("image.raw"), IMAGE_BYTES, 20);
        String sha = Checksums.sha256(image);
        InetSocketAddress sourcePortal = LoopbackPorts.freePortOn("127.0.0.1");
        ManagerConfig config = ManagerConfig.defaults(new StateDir(work.resolve("manager")))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePortal.getPort(), Locality.UNKNOWN)
                .withImageDirs(List.of(work));
        LinuxStackGuest guest = LinuxStackGuest.shared();
        GuestIscsi iscsi = new GuestIscsi(guest);
        try (ManagerServer manager = ManagerServer.start(config)) {
            ImageView view = new ManagerClient(manager.url(), manager.token()).registerImage("mpath", image.toString());
            InetSocketAddress p1 = LoopbackPorts.freePortOn("127.0.0.1");
            InetSocketAddress p2 = LoopbackPorts.freePortOn("127.0.0.1");
            // The guest's open-iscsi is neither a placed host nor a VM of the agents' --vm-dir:
            // the exports admit any initiator (ExportAdmissionTest covers the default).
            try (SourceTarget source = SourceTarget.start(sourcePortal, view.id(), image);
                 VirtmanAgentProcess parent = VirtmanAgentProcess.launch(manager.url(), manager.token(), "parent",
                         p1, "mpath", work.resolve("parent"), List.of("--admit-any-initiator"));
                 VirtmanAgentProcess uncle = VirtmanAgentProcess.launch(manager.url(), manager.token(), "uncle",
                         p2, "mpath", work.resolve("uncle"), List.of("--admit-any-initiator"))) {
                parent.awaitReady();
                uncle.awaitReady();
                iscsi.reset();
                String parentIqn = TargetNames.agentIqn("parent", view.id());
                String uncleIqn = TargetNames.agentIqn("uncle", view.id());
                String parentPortal = LinuxStackGuest.HOST + ":" + p1.getPort();
                String unclePortal = LinuxStackGuest.HOST + ":" + p2.getPort();
                String[] devices = new String[2];
                int i = 0;
                for (String[] node : new String[][] {{parentIqn, parentPortal}, {uncleIqn, unclePortal}}) {
                    // The agents advertise 127.0.0.1 (their own view); the guest names the forward.
                    iscsi.addNode(node[0], node[1]);
                    iscsi.set(node[0], node[1], "node.session.timeo.replacement_timeout", REPLACEMENT_TIMEOUT);
                    iscsi.login(node[0], node[1]).requireSuccess();
                    devices[i++] = iscsi.device(node[0], node[1], 0);
                }
                String ids = guest.check("for d in " + devices[0] + " " + devices[1] + "; do "
                        + "/lib/udev/scsi_id -g -u $d; sg_inq -p 0x80 $d | tail -n 1; done", STEP);
                String[] lines = ids.strip().split("\n");
                assertThat(lines).as("scsi_id (VPD 0x83) and unit serial (VPD 0x80) of both paths:\n" + ids).hasSize(4);
                assertThat(lines[2]).as("the same WWID from both agents").isEqualTo(lines[0]);
                assertThat(lines[3]).as("the same unit serial number from both agents").isEqualTo(lines[1]);

                String ll = guest.check("set -e; cat > /etc/multipath.conf <<'EOF'\n"
                        + "defaults {\n  user_friendly_names yes\n  find_multipaths no\n"
                        + "  path_grouping_policy multibus\n  no_path_retry 12\n}\n"
                        + "blacklist {\n  devnode \"^vd[a-z]\"\n}\nEOF\n"
                        + "systemctl start multipathd; for n in $(seq 100); do multipath -ll | grep -q 'active ready' && break; "
                        + "multipath -r >/dev/null 2>&1; sleep 0.3; done; multipath -ll", STEP);
                assertThat(countMaps(ll)).as("one map:\n" + ll).isEqualTo(1);
                assertThat(countOf(ll, "active ready running")).as("two live paths in it:\n" + ll).isEqualTo(2);
                String wwids = guest.check("multipathd show paths format '%d %w'", STEP);
                assertThat(wwids.lines().skip(1).map(l -> l.strip().split("\\s+")[1]).distinct().count())
                        .as("multipathd's WWID of both paths:\n" + wwids).isEqualTo(1);
                String map = "/dev/mapper/" + ll.strip().split("\\s+")[0];

                CompletableFuture<GuestShell.Result> read = guest.shell().start(
                        "dd if=" + q(map) + " bs=64k iflag=direct status=none | sha256sum | cut -d' ' -f1",
                        Duration.ofMinutes(8));
                String dm = guest.check("basename $(readlink -f " + q(map) + ")", STEP).strip();
                guest.check("for n in $(seq 600); do s=$(awk '{print $3}' /sys/block/" + dm + "/stat); "
                        + "[ \"$s\" -ge " + IMAGE_BYTES / 512 / 4 + " ] && exit 0; sleep 0.2; done; exit 1", STEP);
                assertThat(read).as("the read is still running when the agent dies").isNotDone();
                parent.kill();
                GuestShell.Result result = read.get(9, TimeUnit.MINUTES);
                String after = guest.check("multipath -ll; dmesg | tail -n 40", STEP);
                assertThat(result.exitCode()).as(result.describe() + "\n" + after).isZero();
                assertThat(result.stdout().strip()).as("the whole map read correctly across the path failure\n" + after)
                        .isEqualTo(sha);
                assertThat(after).as("multipath saw the path fail").containsAnyOf("failed faulty", "failed");
            } finally {
                guest.run("multipath -F; systemctl stop multipathd multipathd.socket", STEP);
                iscsi.reset();
            }
        }
    }

    /** Map header lines in {@code multipath -ll}: {@code NAME (WWID) dm-N VENDOR,PRODUCT}. */
    private static long countMaps(final String ll) {
        return Arrays.stream(ll.split("\n")).filter(l -> l.matches("^\\S+ \\(\\S+\\) dm-\\d+ .*")).count();
    }

    private static int countOf(final String text, final String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }
}
