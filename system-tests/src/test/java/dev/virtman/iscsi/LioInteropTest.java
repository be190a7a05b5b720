package dev.virtman.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.cli.VirtmanCommand;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.LinuxStackGuest;
import dev.virtman.testing.LioExport;
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
    private static final long LUN_BYTES = 64L << 20;
    private static final Duration STEP = Duration.ofMinutes(3);

    @TempDir
    static Path dir;

    private LinuxStackGuest guest;
    private LioExport lio;

    @BeforeAll
    void configureLio() {
        guest = LinuxStackGuest.shared();
        lio = LioExport.create(guest, LIO_IQN, "lun0", LUN_BYTES, LioExport.Fill.RANDOM);
    }

    @AfterAll
    void clearLio() {
        if (guest != null) {
            LioExport.clear(guest);
        }
    }

    @Test
    void virtmansInitiatorReadsLiosLunWhole() throws IOException {
        String guestSha = guest.check("sha256sum " + lio.backing() + " | cut -d' ' -f1", STEP).strip();
        Path copy = dir.resolve("lio-lun0.raw");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new VirtmanCommand()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("iscsi-read", lio.url(), "-o", copy.toString());
        assertThat(code).as(out + "\n" + err).isZero();
        assertThat(Files.size(copy)).isEqualTo(LUN_BYTES);
        assertThat(Checksums.sha256(copy)).as("the bytes LIO serves are the guest file's").isEqualTo(guestSha);
    }
}
