package dev.virtman.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overlays over a local raw file, made and read back by the real qemu-img. */
@Tag("interop")
class QcowOverlaysTest {

    private static final long IMAGE_SIZE = 8L << 20;

    @TempDir
    Path dir;

    private Path rawImage() throws IOException {
        Path raw = dir.resolve("base.raw");
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
        }
        return raw;
    }

    @Test
    void overlayOverLocalFileRecordsRawBackingAndItsSize() throws IOException {
        Path raw = rawImage();
        Path overlay = dir.resolve("o.qcow2");
        QcowOverlays.create(overlay, raw.toString(), OptionalLong.empty());
        QcowOverlays.OverlayInfo info = QcowOverlays.info(overlay);
        assertThat(info.format()).isEqualTo("qcow2");
        assertThat(info.virtualSizeBytes()).isEqualTo(IMAGE_SIZE);
        assertThat(info.backingFile()).hasValue(raw.toAbsolutePath().toString());
        assertThat(info.backingFormat()).hasValue("raw");
    }

    @Test
    void relativeBackingPathIsMadeAbsolute() throws IOException {
        Path raw = rawImage();
        Path relative = Path.of("").toAbsolutePath().relativize(raw);
        Path overlay = dir.resolve("o.qcow2");
        QcowOverlays.create(overlay, relative.toString(), OptionalLong.empty());
        assertThat(QcowOverlays.info(overlay).backingFile()).hasValue(raw.toAbsolutePath().toString());
    }

    @Test
    void refusesToOverwriteAnExistingDisk() throws IOException {
        Path raw = rawImage();
        Path overlay = dir.resolve("o.qcow2");
        Files.writeString(overlay, "a VM's data");
        assertThatThrownBy(() -> QcowOverlays.create(overlay, raw.toString(), OptionalLong.empty()))
                .isInstanceOf(VmException.class).hasMessageContaining("already exists");
        assertThat(Files.readString(overlay)).isEqualTo("a VM's data");
    }

    @Test
    void missingBackingFileIsAClearError() {
        Path overlay = dir.resolve("o.qcow2");
        assertThatThrownBy(() -> QcowOverlays.create(overlay, dir.resolve("nope.raw").toString(), OptionalLong.empty()))
                .isInstanceOf(VmException.class).hasMessageContaining("nope.raw").hasMessageContaining("does not exist");
        assertThat(overlay).doesNotExist();
    }

    @Test
    void unreachableIscsiBackingFailsAtCreationWithQemuImgsReason() throws IOException {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String url = QcowOverlays.iscsiUrl("127.0.0.1", closedPort, "iqn.2026-11.dev.virtman:none", 1);
        Path overlay = dir.resolve("o.qcow2");
        assertThatThrownBy(() -> QcowOverlays.create(overlay, url, OptionalLong.empty()))
                .isInstanceOf(VmException.class)
                .hasMessageContaining("cannot create overlay")
                .hasMessageContaining(url)
                .hasMessageContaining("qemu-img");
        // With the size given, qemu-img does not open the backing: creation works offline.
        QcowOverlays.create(overlay, url, OptionalLong.of(IMAGE_SIZE));
        QcowOverlays.OverlayInfo info = QcowOverlays.info(overlay);
        assertThat(info.backingFile()).hasValue(url);
        assertThat(info.virtualSizeBytes()).isEqualTo(IMAGE_SIZE);
    }

    @Test
    void iscsiUrlFormat() {
        assertThat(QcowOverlays.iscsiUrl("127.0.0.1", 3260, "iqn.2026-11.dev.virtman:img", 1))
                .isEqualTo("iscsi://127.0.0.1:3260/iqn.2026-11.dev.virtman:img/1");
        assertThat(QcowOverlays.iscsiUrl("::1", 3260, "iqn.x", 0)).isEqualTo("iscsi://[::1]:3260/iqn.x/0");
        assertThatThrownBy(() -> QcowOverlays.iscsiUrl("h", 0, "iqn.x", 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
