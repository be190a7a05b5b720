package dev.virtman.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.cli.VirtmanCommand;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.LinuxStackGuest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * LIO, the Linux kernel's SCSI target, as a third peer: configured with {@code targetcli} in the
 * Debian guest to export a file, reached from the host through QEMU's forward of the guest's
 * port 3260. VirtMan's initiator reads LIO's LUN whole (checksum against the guest's own).
 * (libiscsi's {@code iscsi-test-cu} against LIO and VirtMan side by side: {@link LioConformanceTest}.)
 */
@Tag("interop")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LioInteropTest {
    private static final String LIO_IQN = "iqn.2026-12.dev.virtman:lio";
    private static final String BACKING = "/var/lib/virtman-lio/lun0.img";
    private static final long LUN_BYTES = 64L << 20;
    private static final Duration STEP = Duration.ofMinutes(3);

    @TempDir
    static Path dir;

    private LinuxStackGuest guest;
    private String lioUrl;

    @BeforeAll
    void configureLio() {
        guest = LinuxStackGuest.shared();
        lioUrl = "iscsi://127.0.0.1:" + LinuxStackGuest.sharedLioPort() + "/" + LIO_IQN + "/0";
        guest.check("set -e; targetcli clearconfig confirm=True >/dev/null; mkdir -p /var/lib/virtman-lio; "
                + "head -c " + LUN_BYTES + " /dev/urandom > " + BACKING + "; "
                + "targetcli /backstores/fileio create name=lun0 file_or_dev=" + BACKING + " write_back=false; "
                + "targetcli /iscsi create " + LIO_IQN + "; "
                + "targetcli /iscsi/" + LIO_IQN + "/tpg1/luns create /backstores/fileio/lun0; "
                + "targetcli /iscsi/" + LIO_IQN + "/tpg1 set attribute authentication=0 demo_mode_write_protect=0 "
                + "generate_node_acls=1 cache_dynamic_acls=1", STEP);
    }

    @AfterAll
    void clearLio() {
        if (guest != null) {
            guest.run("targetcli clearconfig confirm=True; rm -rf /var/lib/virtman-lio", STEP);
        }
    }

    @Test
    void virtmansInitiatorReadsLiosLunWhole() throws IOException {
        String guestSha = guest.check("sha256sum " + BACKING + " | cut -d' ' -f1", STEP).strip();
        Path copy = dir.resolve("lio-lun0.raw");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new VirtmanCommand()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("iscsi-read", lioUrl, "-o", copy.toString());
        assertThat(code).as(out + "\n" + err).isZero();
        assertThat(Files.size(copy)).isEqualTo(LUN_BYTES);
        assertThat(Checksums.sha256(copy)).as("the bytes LIO serves are the guest file's").isEqualTo(guestSha);
    }
}
