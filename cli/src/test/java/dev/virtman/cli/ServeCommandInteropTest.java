package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.QemuImg;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code virtman serve} as an operator runs it: a separate JVM, a real initiator, SIGTERM to stop. */
@Tag("interop")
class ServeCommandInteropTest {

    @TempDir
    Path dir;

    @Test
    void servesTwoImagesAsTwoLunsAndStopsOnSigterm() throws Exception {
        byte[] a = new byte[2 << 20];
        byte[] b = new byte[1 << 20];
        new Random(1).nextBytes(a);
        new Random(2).nextBytes(b);
        Path first = Files.write(dir.resolve("Boot Disk.raw"), a);
        Path second = Files.write(dir.resolve("data.img"), b);
        int port = FreePorts.loopbackPort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process serve = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                VirtmanCommand.class.getName(), "serve", "--portal", "127.0.0.1:" + port,
                first.toString(), second.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            String iqn = ServeCommand.DEFAULT_IQN_PREFIX + "boot-disk";
            assertThat(line).startsWith("virtman: serving 2 images read-only as " + iqn)
                    .contains("iscsi://127.0.0.1:" + port + "/" + iqn + "/0")
                    .contains("iscsi://127.0.0.1:" + port + "/" + iqn + "/1");
            for (String lunAndFile : List.of("0=" + first, "1=" + second)) {
                String[] parts = lunAndFile.split("=", 2);
                QemuImg.compareRaw(parts[1], "iscsi://127.0.0.1:" + port + "/" + iqn + "/" + parts[0]).requireSuccess();
            }
            // read-only: a write through QEMU fails
            Commands.Result write = Commands.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", "-c", "write 0 4k",
                    "iscsi://127.0.0.1:" + port + "/" + iqn + "/1");
            assertThat(write.output()).containsIgnoringCase("write protected");
            assertThat(Files.readAllBytes(second)).isEqualTo(b);
        } finally {
            serve.destroy(); // SIGTERM
            assertThat(serve.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(serve.exitValue()).isIn(0, 143);
    }

    @Test
    void defaultIqnFromImageName() throws IOException {
        assertThat(ServeCommand.defaultIqn(Path.of("/x/Debian_12.raw"))).isEqualTo("iqn.2026-11.dev.virtman:debian-12");
    }
}
