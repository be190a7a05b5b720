package dev.virtman.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.CunitResults;
import dev.virtman.testing.IscsiTargetUnderTest;
import dev.virtman.testing.IscsiTestCu;
import dev.virtman.testing.KnownFailures;
import dev.virtman.testing.LinuxStackGuest;
import dev.virtman.testing.LioExport;
import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * libiscsi's {@code iscsi-test-cu} against LIO (the Linux kernel target, in the Linux-stack guest,
 * configured with {@code targetcli}) and against VirtMan's target, the same suites with
 * {@code --dataloss} in one run; each target's failures must be on its committed list, and both
 * are written side by side to {@code target/conformance/lio-vs-virtman.txt}.
 *
 * <p>LIO runs in a TCG guest behind QEMU's user network: every SCSI command costs milliseconds,
 * so the suites that sweep the LUN block by block (READ/WRITE/VERIFY/WRITE SAME/COMPARE AND WRITE)
 * take 25–100 s each there and 12 minutes in all. The suite runs every other suite of the
 * {@code ALL} family (143 of its 230 tests, about 40 s against LIO);
 * {@code -Dvirtman.conformance.lio=all} runs the whole family (figures in docs/conformance.md).
 */
@Tag("interop")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class LioConformanceTest {
    private static final String LIO_IQN = "iqn.2026-12.dev.virtman:lio-conformance";
    private static final String VIRTMAN_IQN = "iqn.2026-12.dev.virtman:conformance-beside-lio";
    private static final long LUN_BYTES = 64L << 20;
    private static final Duration SUBSET_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration WHOLE_FAMILY_TIMEOUT = Duration.ofMinutes(25);

    /** The ALL family's suites that do not sweep the LUN (seconds each against LIO under TCG). */
    static final List<String> QUICK_SUITES = List.of("ExtendedCopy", "GetLBAStatus", "Inquiry", "Mandatory",
            "ModeSense6", "NoMedia", "OrWrite", "Prefetch10", "Prefetch16", "PreventAllow", "PrinReadKeys",
            "PrinServiceactionRange", "PrinReportCapabilities", "ProutRegister", "ProutReserve", "ProutClear",
            "ProutPreempt", "ReadCapacity10", "ReadCapacity16", "ReadDefectData10", "ReadDefectData12", "ReadOnly",
            "ReceiveCopyResults", "ReportSupportedOpcodes", "Reserve6", "Sanitize", "StartStopUnit", "TestUnitReady",
            "Unmap", "Verify12", "WriteAtomic16", "WriteVerify12", "iSCSIcmdsn", "iSCSIdatasn", "iSCSIResiduals",
            "iSCSITMF", "MultipathIO").stream().map(s -> "ALL." + s).toList();

    @TempDir
    static Path dir;

    private LinuxStackGuest guest;
    private LioExport lioTarget;

    @BeforeAll
    void configureLio() {
        guest = LinuxStackGuest.shared();
        lioTarget = LioExport.create(guest, LIO_IQN, "conformance", LUN_BYTES, LioExport.Fill.ZEROES);
    }

    @AfterAll
    void clearLio() {
        if (guest != null) {
            LioExport.clear(guest);
        }
    }

    @Test
    void lioAndVirtmanFailOnlyTheirKnownTests() throws IOException {
        boolean whole = "all".equals(System.getProperty("virtman.conformance.lio", ""));
        List<String> suites = whole ? allFamilySuites() : QUICK_SUITES;
        Duration timeout = whole ? WHOLE_FAMILY_TIMEOUT : SUBSET_TIMEOUT;
        Path out = ProjectPaths.root().resolve("target/conformance");

        Path image = dir.resolve("virtman-lun.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(LUN_BYTES);
        }
        IscsiTestCu.Run lio;
        IscsiTestCu.Run virtman;
        // Both at once: LIO's run waits on the guest, ours on the host's CPU.
        try (IscsiTargetUnderTest target = TargetImplementation.VIRTMAN.start(image, VIRTMAN_IQN, true)) {
            CompletableFuture<IscsiTestCu.Run> ours = CompletableFuture.supplyAsync(
                    () -> IscsiTestCu.runSuites(target.url(), true, out.resolve("virtman-beside-lio-rw"), timeout, suites));
            lio = IscsiTestCu.runSuites(lioTarget.url(), true, out.resolve("lio-rw"), timeout, suites);
            virtman = ours.join();
        }

        KnownFailures lioKnown = KnownFailures.load("conformance/lio/known-failures-rw.txt");
        KnownFailures virtmanKnown = KnownFailures.load("conformance/known-failures-rw.txt");
        Set<String> lioRegressions = lioKnown.regressions(lio.failedOrNotRun());
        Set<String> virtmanRegressions = virtmanKnown.regressions(virtman.failedOrNotRun());
        String report = sideBySide(suites, lio, virtman)
                + "\nLIO failures not on " + lioKnown.resource() + ": " + lioRegressions
                + "\nVirtMan failures not on " + virtmanKnown.resource() + ": " + virtmanRegressions
                + "\nLIO tests on its list that pass now: " + inRun(lioKnown.nowPassing(lio.failedOrNotRun()), lio) + "\n";
        Files.createDirectories(out);
        Files.writeString(out.resolve("lio-vs-virtman.txt"), report);
        System.out.println(report);

        assertThat(lio.results().outcomes()).as("LIO's run reported results\n%s", report).isNotEmpty();
        assertThat(virtman.results().outcomes()).as("VirtMan's run reported results\n%s", report).isNotEmpty();
        assertThat(lioRegressions).as("LIO (a peer, not ours: a new failure means the set-up changed)\n%s", report)
                .isEmpty();
        assertThat(virtmanRegressions).as(report).isEmpty();
    }

    /** Every suite of the {@code ALL} family (the other families repeat its tests). */
    private static List<String> allFamilySuites() {
        return CunitResults.suitesFromListing(IscsiTestCu.listing()).stream().filter(s -> s.startsWith("ALL.")).toList();
    }

    /** Known failures that passed in this run (tests outside the run's suites are not "passing"). */
    private static Set<String> inRun(final Set<String> names, final IscsiTestCu.Run run) {
        Set<String> ran = new TreeSet<>(names);
        ran.retainAll(run.expected());
        return ran;
    }

    private static String sideBySide(final List<String> suites, final IscsiTestCu.Run lio, final IscsiTestCu.Run virtman) {
        StringBuilder table = new StringBuilder("iscsi-test-cu --dataloss, " + suites.size() + " suites of the ALL family\n")
                .append("LIO (kernel target in a TCG guest): ").append(lio.summary()).append('\n')
                .append("VirtMan (in-process target):        ").append(virtman.summary()).append('\n')
                .append("tests failed by either (LIO | VirtMan):\n");
        Set<String> either = new TreeSet<>(lio.failedOrNotRun());
        either.addAll(virtman.failedOrNotRun());
        for (String test : either) {
            table.append(String.format("  %-45s %-6s | %s%n", test, mark(lio, test), mark(virtman, test)));
        }
        return table.toString();
    }

    private static String mark(final IscsiTestCu.Run run, final String test) {
        return run.failedOrNotRun().contains(test) ? "FAIL" : "pass";
    }
}
