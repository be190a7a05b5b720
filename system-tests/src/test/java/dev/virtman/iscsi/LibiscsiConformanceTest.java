package dev.virtman.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.IscsiTargetUnderTest;
import dev.virtman.testing.IscsiTestCu;
import dev.virtman.testing.KnownFailures;
import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * libiscsi's conformance suite ({@code iscsi-test-cu}, about 615 SCSI and iSCSI tests) against a
 * target, once on a read-write LUN with {@code --dataloss} and once on a read-only LUN. Every
 * failing test must be on the committed known-failures list for that target and mode
 * ({@code src/test/resources/conformance/}); a failure not on the list is a regression and fails
 * the build. Tests on the list that pass now are printed so the list can shrink.
 *
 * <p>Runs against our target by default; {@code -Dvirtman.conformance.targets=tgtd,virtman}
 * measures tgtd with the same harness (figures in docs/conformance.md). Each run writes its
 * summary and the suite's own report under {@code target/conformance/}.
 */
@Tag("interop")
class LibiscsiConformanceTest {
    private static final String IQN = "iqn.2025-01.dev.virtman:conformance";
    private static final long LUN_BYTES = 64L << 20;
    /** tgtd needs about a minute per mode here; a hung target must not hold the build for long. */
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(12);

    enum LunMode {
        RW(true), RO(false);

        final boolean writable;

        LunMode(final boolean writable) {
            this.writable = writable;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static List<Arguments> runs() {
        List<Arguments> runs = new ArrayList<>();
        for (TargetImplementation target : TargetImplementation.selected(
                "virtman.conformance.targets", List.of(TargetImplementation.VIRTMAN))) {
            for (LunMode mode : LunMode.values()) {
                runs.add(Arguments.of(target, mode));
            }
        }
        return runs;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("runs")
    void everyFailingTestIsAKnownFailure(final TargetImplementation impl, final LunMode mode,
                                         @TempDir final Path dir) throws IOException {
        Path image = dir.resolve("lun.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(LUN_BYTES);
        }
        String label = impl.name().toLowerCase(Locale.ROOT) + "-" + mode.label();
        Path workDir = ProjectPaths.root().resolve("target/conformance").resolve(label);
        KnownFailures known = KnownFailures.load(knownFailuresResource(impl, mode));

        IscsiTestCu.Run run;
        try (IscsiTargetUnderTest target = impl.start(image, IQN, mode.writable)) {
            run = IscsiTestCu.run(target.url(), mode.writable, workDir, RUN_TIMEOUT);
        }

        var failed = run.failedOrNotRun();
        var regressions = known.regressions(failed);
        var nowPassing = known.nowPassing(failed);
        String report = "iscsi-test-cu vs " + label + (mode.writable ? " (--dataloss)" : "") + ": " + run.summary()
                + "\n  failed or not run: " + failed
                + "\n  regressions (not on " + known.resource() + "): " + regressions
                + "\n  on the list but passing now (shrink the list): " + nowPassing
                + "\n  details: " + workDir + "\n";
        Files.writeString(workDir.resolve("summary.txt"), report);
        System.out.println(report);

        assertThat(run.results().outcomes()).as("the suite reported results\n%s", report).isNotEmpty();
        assertThat(regressions).as(report).isEmpty();
    }

    private static String knownFailuresResource(final TargetImplementation impl, final LunMode mode) {
        String dir = impl == TargetImplementation.TGTD ? "conformance/tgtd/" : "conformance/";
        return dir + "known-failures-" + mode.label() + ".txt";
    }
}
