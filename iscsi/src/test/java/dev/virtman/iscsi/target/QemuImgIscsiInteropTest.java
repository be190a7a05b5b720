package dev.virtman.iscsi.target;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Commands;
import dev.virtman.testing.QemuImg;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's iscsi:// driver (libiscsi inside qemu-img) against our {@link IscsiTargetServer}:
 * metadata, a byte-for-byte compare of the whole LUN with the image file, and a write through
 * the target (qemu-img convert onto the LUN) compared with its source.
 */
@Tag("interop")
class QemuImgIscsiInteropTest {

    @TempDir
    Path dir;

    private static String url(final TargetFixture f) {
        return "iscsi://127.0.0.1:" + f.address().getPort() + "/" + TargetFixture.IQN + "/0";
    }

    @Test
    void infoAndCompareMatchTheImageFile() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir)) {
            Commands.Result info = QemuImg.info(url(f)).requireSuccess();
            assertThat(info.output()).contains(String.valueOf(f.content.length));
            QemuImg.compareRaw(f.image.toString(), url(f)).requireSuccess();
        }
    }

    @Test
    void convertWritesThroughTheTarget() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir)) {
            byte[] other = new byte[f.content.length];
            new Random(9).nextBytes(other);
            Path source = Files.write(dir.resolve("source.raw"), other);
            Commands.run(Duration.ofMinutes(2), "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw",
                    source.toString(), url(f)).requireSuccess();
            QemuImg.compareRaw(source.toString(), url(f)).requireSuccess();
            assertThat(Files.readAllBytes(f.image)).isEqualTo(other);
        }
    }
}
