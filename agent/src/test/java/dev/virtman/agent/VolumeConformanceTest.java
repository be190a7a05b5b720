package dev.virtman.agent;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.VolumeAssignment;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.IscsiTestCu;
import dev.virtman.testing.KnownFailures;
import dev.virtman.testing.ProjectPaths;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libiscsi's conformance suite ({@code iscsi-test-cu --dataloss}) against a volume's LUN: a
 * copy-on-write overlay over a base, behind CHAP. The suite writes, compares-and-writes,
 * write-sames and reads all over the LUN, including the part past the base's end; every test must
 * pass as on a plain read-write file LUN (the known-failures list of read-write LUNs), and the
 * base must not change.
 */
@Tag("interop")
class VolumeConformanceTest {
    private static final long BASE_BYTES = 40L << 20;
    private static final long VOLUME_BYTES = 64L << 20;
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(12);

    @TempDir
    Path dir;

    @Test
    void aVolumeLunPassesTheSuiteLikeAFileLun() throws Exception {
        Path baseFile = TestImages.create(dir.resolve("base.raw"), BASE_BYTES, 9);
        String baseHash = Checksums.sha256(baseFile);
        byte[] baseId = new byte[32];
        Arrays.fill(baseId, (byte) 0x42);
        VolumeAssignment a = new VolumeAssignment("conformance", null, VOLUME_BYTES,
                TargetNames.volumeIqn("conformance"), "virtman-conformance", "conformance-secret-0123");
        Path workDir = ProjectPaths.root().resolve("target/conformance/volume-rw");
        IscsiTestCu.Run run;
        try (FileBlockDevice base = FileBlockDevice.open(baseFile, false);
             VolumeExport volume = VolumeExport.openOrCreate(dir.resolve("volume"), a, base, baseId);
             IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
                     new InetSocketAddress("127.0.0.1", 0), List.of(volume.target())))) {
            InetSocketAddress p = server.localAddress();
            String url = "iscsi://" + a.chapUser() + "%" + a.chapSecret() + "@127.0.0.1:" + p.getPort() + "/"
                    + a.iqn() + "/0";
            run = IscsiTestCu.run(url, true, workDir, RUN_TIMEOUT);
            assertThat(volume.overlay().writtenGrains()).as("the suite wrote to the volume").isPositive();
        }
        KnownFailures known = KnownFailures.load("conformance/known-failures-rw.txt");
        var failed = run.failedOrNotRun();
        String report = "iscsi-test-cu --dataloss vs a volume LUN: " + run.summary() + "\n  failed or not run: "
                + failed + "\n  details: " + workDir + "\n";
        Files.writeString(workDir.resolve("summary.txt"), report);
        System.out.println(report);
        assertThat(run.results().outcomes()).as(report).isNotEmpty();
        assertThat(known.regressions(failed)).as(report).isEmpty();
        assertThat(Checksums.sha256(baseFile)).as("the base never changes").isEqualTo(baseHash);
    }
}
