package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.TgtdProcess;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qcow2 overlays whose backing is a LUN of a real tgtd target, opened by QEMU's iSCSI driver. */
@Tag("interop")
class TgtdOverlayTest {

    private static final String IQN = "iqn.2026-11.dev.virtman:vm-test-overlay";

    private static final long IMAGE_SIZE = 24L << 20;

    @TempDir
    Path dir;

    @Test
    void qemuImgReadsTheLunSizeOverIscsi() throws Exception {
        Path raw = dir.resolve("base.raw");
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
        }
        try (TgtdProcess target = TgtdProcess.start(raw, IQN, false)) {
            Path overlay = dir.resolve("o.qcow2");
            // No size given: qemu-img logs in to tgtd and asks the LUN's capacity (READ CAPACITY).
            QcowOverlays.create(overlay, target.url(), OptionalLong.empty());
            QcowOverlays.OverlayInfo info = QcowOverlays.info(overlay);
            assertThat(info.virtualSizeBytes()).isEqualTo(IMAGE_SIZE);
            assertThat(info.backingFile()).hasValue(target.url());
            assertThat(info.backingFormat()).hasValue("raw");
        }
    }
}
