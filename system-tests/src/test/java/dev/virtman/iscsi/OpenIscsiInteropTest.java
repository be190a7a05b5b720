package dev.virtman.iscsi;

import static dev.virtman.testing.GuestIscsi.q;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.GuestIscsi;
import dev.virtman.testing.GuestShell;
import dev.virtman.testing.LinuxStackGuest;
import dev.virtman.testing.RandomFiles;
import dev.virtman.testing.VirtmanServeProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Linux kernel's iSCSI initiator (open-iscsi's {@code iscsiadm} and {@code iscsid},
 * {@code iscsi_tcp}) in a Debian cloud-kernel guest against VirtMan's target on the host, reached
 * through QEMU user networking as {@code 10.0.2.2}: discovery and login with and without CHAP and
 * a whole-disk checksum, a writable LUN carrying an ext4 file system across log-out and log-in,
 * and the kernel's session recovery across a target restart in the middle of a read.
 */
@Tag("interop")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class OpenIscsiInteropTest {
    private static final String IMAGE_IQN = "iqn.2026-12.dev.virtman:openiscsi.image";
    private static final String CHAP_IQN = "iqn.2026-12.dev.virtman:openiscsi.chap";
    private static final String VOLUME_IQN = "iqn.2026-12.dev.virtman:openiscsi.volume";
    private static final String CHAP_USER = "compute-node-1";
    private static final String CHAP_SECRET = "s3cret-of-16-chars";
    private static final int IMAGE_BYTES = 32 << 20;
    private static final long VOLUME_BYTES = 128L << 20;
    private static final Duration LONG = Duration.ofMinutes(5);

    @TempDir
    static Path dir;

    private LinuxStackGuest guest;
    private GuestIscsi iscsi;
    private Path image;
    private String imageSha;
    private int servePort;
    private VirtmanServeProcess serve;
    private IscsiTargetServer inProcess;
    private Path volume;
    private FileBlockDevice chapDevice;
    private FileBlockDevice volumeDevice;

    @BeforeAll
    void start() throws IOException {
        image = RandomFiles.write(dir.resolve("image.raw"), IMAGE_BYTES, 15);
        imageSha = Checksums.sha256(image);
        volume = dir.resolve("volume.raw");
        try (RandomAccessFile f = new RandomAccessFile(volume.toFile(), "rw")) {
            f.setLength(VOLUME_BYTES);
        }
        servePort = FreePorts.loopbackPort();
        serve = startServe();
        // CHAP and the writable LUN: the same target stack in this JVM, advertising 10.0.2.2 too.
        chapDevice = FileBlockDevice.open(image, false);
        volumeDevice = FileBlockDevice.open(volume, true);
        int port = FreePorts.loopbackPort();
        inProcess = IscsiTargetServer.start(new TargetServerConfig(new InetSocketAddress("127.0.0.1", port), List.of(
                new ExportedTarget(CHAP_IQN, new LunTable(List.of(new ScsiDisk(chapDevice, DiskIdentity.fromName(CHAP_IQN + "/0")))),
                        new ChapConfig(CHAP_USER, CHAP_SECRET, null, null), Set.of()),
                new ExportedTarget(VOLUME_IQN, new LunTable(List.of(new ScsiDisk(volumeDevice, DiskIdentity.fromName(VOLUME_IQN + "/0")))),
                        null, Set.of())))
                .withAdvertisedPortal(new InetSocketAddress(LinuxStackGuest.HOST, port)));
        guest = LinuxStackGuest.shared();
        iscsi = new GuestIscsi(guest);
        iscsi.reset();
    }

    private VirtmanServeProcess startServe() {
        return VirtmanServeProcess.start(image, IMAGE_IQN, false, "127.0.0.1:" + servePort,
                List.of("--advertise", LinuxStackGuest.HOST + ":" + servePort));
    }

    @AfterEach
    void logOutEverywhere() {
        iscsi.reset();
    }

    @AfterAll
    void stop() throws IOException {
        if (serve != null) {
            serve.close();
        }
        if (inProcess != null) {
            inProcess.close();
        }
        if (chapDevice != null) {
            chapDevice.close();
        }
        if (volumeDevice != null) {
            volumeDevice.close();
        }
    }

    private String servePortal() {
        return LinuxStackGuest.HOST + ":" + servePort;
    }

    private String inProcessPortal() {
        return LinuxStackGuest.HOST + ":" + inProcess.localAddress().getPort();
    }

    @Test
    void discoversLogsInWithoutChapAndReadsTheWholeImage() {
        String found = iscsi.discover(servePortal());
        assertThat(found).as("SendTargets names the advertised, reachable portal")
                .contains(servePortal() + ",1 " + IMAGE_IQN);
        iscsi.login(IMAGE_IQN, servePortal()).requireSuccess();
        String device = iscsi.device(IMAGE_IQN, servePortal(), 0);
        assertThat(guest.check("blockdev --getsize64 " + q(device), LONG).strip()).isEqualTo(Long.toString(IMAGE_BYTES));
        assertThat(guest.check("cat /sys/block/" + device.substring("/dev/".length()) + "/ro", LONG).strip())
                .as("a read-only image export shows as a write-protected disk").isEqualTo("1");
        assertThat(iscsi.sha256(device)).isEqualTo(imageSha);
    }

    @Test
    void chapIsRequiredAndAcceptedAndTheImageReadsWhole() {
        // Discovery is unauthenticated here, so it never names a CHAP target; the initiator is told
        // the name out of band (as Cinder tells os-brick) and makes the node record itself.
        assertThat(iscsi.discover(inProcessPortal())).doesNotContain(CHAP_IQN);
        iscsi.addNode(CHAP_IQN, inProcessPortal());
        GuestShell.Result none = iscsi.login(CHAP_IQN, inProcessPortal());
        assertThat(none.exitCode()).as("no credentials: refused\n" + none.describe()).isNotZero();
        iscsi.chap(CHAP_IQN, inProcessPortal(), CHAP_USER, "wrong-secret-16ch");
        GuestShell.Result wrong = iscsi.login(CHAP_IQN, inProcessPortal());
        assertThat(wrong.exitCode()).as("wrong secret: refused\n" + wrong.describe()).isNotZero();
        // open-iscsi reports any class-2 login failure of a normal session as error 19; iscsid's
        // log says which: the target answered 0x0201, authentication failure.
        assertThat(guest.check("journalctl --no-pager -q -t iscsid", LONG))
                .contains("failed authentication with target");
        iscsi.chap(CHAP_IQN, inProcessPortal(), CHAP_USER, CHAP_SECRET);
        iscsi.login(CHAP_IQN, inProcessPortal()).requireSuccess();
        assertThat(iscsi.sha256(iscsi.device(CHAP_IQN, inProcessPortal(), 0))).isEqualTo(imageSha);
    }

    @Test
    void anExt4FileSystemOnAWritableLunSurvivesLogoutAndLogin() {
        iscsi.discover(inProcessPortal());
        iscsi.login(VOLUME_IQN, inProcessPortal()).requireSuccess();
        String device = iscsi.device(VOLUME_IQN, inProcessPortal(), 0);
        String written = guest.check("set -e; mkfs.ext4 -q -F " + q(device) + "; mkdir -p /mnt/vol; mount " + q(device)
                + " /mnt/vol; dd if=/dev/urandom of=/mnt/vol/blob bs=1M count=8 status=none; "
                + "echo 'written by open-iscsi' > /mnt/vol/note.txt; sync; sha256sum /mnt/vol/blob | cut -d' ' -f1; "
                + "umount /mnt/vol", LONG).strip();
        iscsi.logout(VOLUME_IQN, inProcessPortal());
        iscsi.login(VOLUME_IQN, inProcessPortal()).requireSuccess();
        String again = iscsi.device(VOLUME_IQN, inProcessPortal(), 0);
        String read = guest.check("set -e; echo 3 > /proc/sys/vm/drop_caches; mount " + q(again) + " /mnt/vol; "
                + "sha256sum /mnt/vol/blob | cut -d' ' -f1; cat /mnt/vol/note.txt; umount /mnt/vol", LONG);
        assertThat(read).startsWith(written + "\n").contains("written by open-iscsi");
        // The bytes are in the exported file on the host, not only in the guest's caches.
        Commands.Result debugfs = Commands.run(Duration.ofSeconds(60), "debugfs", "-R", "cat /note.txt", volume.toString());
        assertThat(debugfs.output()).contains("written by open-iscsi");
    }

    @Test
    void sessionRecoveryRidesOutATargetRestartInTheMiddleOfARead() throws Exception {
        iscsi.discover(servePortal());
        iscsi.set(IMAGE_IQN, servePortal(), "node.session.timeo.replacement_timeout", "120");
        iscsi.login(IMAGE_IQN, servePortal()).requireSuccess();
        String device = iscsi.device(IMAGE_IQN, servePortal(), 0);
        String disk = device.substring("/dev/".length());
        guest.check("dmesg -C", LONG);
        // Small direct reads keep the read going long enough to kill the target in its middle.
        CompletableFuture<GuestShell.Result> read = guest.shell().start("dd if=" + q(device)
                + " bs=8k iflag=direct status=none | sha256sum | cut -d' ' -f1", Duration.ofMinutes(8));
        long quarter = IMAGE_BYTES / 512 / 4;
        guest.check("for i in $(seq 600); do s=$(awk '{print $3}' /sys/block/" + disk + "/stat); "
                + "[ \"$s\" -ge " + quarter + " ] && exit 0; sleep 0.2; done; exit 1", LONG);
        assertThat(read).as("the read is still running when the target dies").isNotDone();
        long killedAt = System.nanoTime();
        serve.kill();
        serve = startServe();
        Duration down = Duration.ofNanos(System.nanoTime() - killedAt);
        GuestShell.Result result = read.get(9, TimeUnit.MINUTES);
        String dmesg = guest.check("dmesg", LONG);
        assertThat(result.exitCode()).as(result.describe() + "\ndmesg:\n" + dmesg).isZero();
        assertThat(result.stdout().strip()).as("every byte read correctly across the restart").isEqualTo(imageSha);
        assertThat(dmesg).as("the kernel saw the connection fail and recovered the session (target down %s)", down)
                .contains("detected conn error").doesNotContain("I/O error", "rejecting I/O");
    }
}
