package dev.virtman.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.cli.VirtmanCommand;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.IscsiTestCu;
import dev.virtman.testing.KnownFailures;
import dev.virtman.testing.LinuxStackGuest;
import dev.virtman.testing.ProjectPaths;
import dev.virtman.testing.VirtmanTarget;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * LIO, the Linux kernel's SCSI target, as a third peer: configured with {@code targetcli} in the
 * Debian guest to export a file, reached from the host through QEMU's forward of the guest's
 * port 3260. VirtMan's initiator reads LIO's LUN whole (checksum against the guest's own); then
 * libiscsi's {@code iscsi-test-cu} runs against LIO and against VirtMan's target in the same run,
 * each failure list checked against its committed known failures and written side by side to
 * {@code target/conformance/lio-vs-virtman.txt} (docs/conformance.md).
 */
@Tag("interop")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class LioInteropTest {
    private static final String LIO_IQN = "iqn.2026-12.dev.virtman:lio";
    private static final String VIRTMAN_IQN = "iqn.2026-12.dev.virtman:lio-peer";
    private static final String BACKING = "/var/lib/virtman-lio/lun0.img";
    private static final long LUN_BYTES = 64L << 20;
    private static final Duration STEP = Duration.ofMinutes(3);
    private static final Duration SUITE_TIMEOUT = Duration.ofMinutes(12);

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
    @Order(1)
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

    @Test
    @Order(2)
    void conformanceSuiteAgainstLioAndVirtmanSideBySide() throws IOException {
        Path work = ProjectPaths.root().resolve("target/conformance");
        IscsiTestCu.Run lio = IscsiTestCu.run(lioUrl, true, work.resolve("lio-rw"), SUITE_TIMEOUT);
        Path image = dir.resolve("virtman-lun.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(LUN_BYTES);
        }
        IscsiTestCu.Run ours;
        try (VirtmanTarget target = VirtmanTarget.start(image, VIRTMAN_IQN, true)) {
            ours = IscsiTestCu.run(target.url(), true, work.resolve("virtman-rw-vs-lio"), SUITE_TIMEOUT);
        }
        KnownFailures lioKnown = KnownFailures.load("conformance/lio/known-failures-rw.txt");
        KnownFailures ourKnown = KnownFailures.load("conformance/known-failures-rw.txt");
        String table = sideBySide(lio, ours);
        String report = "iscsi-test-cu --dataloss, one run: LIO (guest kernel) " + lio.summary() + "; VirtMan " + ours.summary()
                + "\n  LIO regressions (not on " + lioKnown.resource() + "): " + lioKnown.regressions(lio.failedOrNotRun())
                + "\n  LIO on the list but passing now: " + lioKnown.nowPassing(lio.failedOrNotRun())
                + "\n  VirtMan regressions: " + ourKnown.regressions(ours.failedOrNotRun()) + "\n" + table;
        Files.createDirectories(work);
        Files.writeString(work.resolve("lio-vs-virtman.txt"), report);
        System.out.println(report);
        assertThat(lio.results().outcomes()).as("LIO's run reported results\n" + report).isNotEmpty();
        assertThat(ours.results().outcomes()).as("VirtMan's run reported results\n" + report).isNotEmpty();
        assertThat(lioKnown.regressions(lio.failedOrNotRun())).as(report).isEmpty();
        assertThat(ourKnown.regressions(ours.failedOrNotRun())).as(report).isEmpty();
    }

    /** One line per test that failed on either target: {@code test  LIO  VirtMan}. */
    private static String sideBySide(final IscsiTestCu.Run lio, final IscsiTestCu.Run ours) {
        Set<String> names = new TreeSet<>(lio.failedOrNotRun());
        names.addAll(ours.failedOrNotRun());
        StringBuilder b = new StringBuilder(String.format("%-60s %-6s %s%n", "test failing on either", "LIO", "VirtMan"));
        for (String n : names) {
            b.append(String.format("%-60s %-6s %s%n", n, lio.failedOrNotRun().contains(n) ? "FAIL" : "pass",
                    ours.failedOrNotRun().contains(n) ? "FAIL" : "pass"));
        }
        return b.toString();
    }
}
