package dev.virtman.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileBlockDeviceTest {
    @TempDir
    Path dir;

    @Test
    void anInterruptedReaderGetsAnErrorAndOthersKeepReading() throws Exception {
        Path file = TestImages.create(dir.resolve("img"), 64 * 1024, 1);
        byte[] bytes = Files.readAllBytes(file);
        try (FileBlockDevice dev = FileBlockDevice.open(file, true)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread victim = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    dev.read(0, ByteBuffer.allocate(4096));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            victim.start();
            victim.join(10_000);
            assertThat(failure.get()).isInstanceOf(InterruptedIOException.class);

            ByteBuffer all = ByteBuffer.allocate(bytes.length);
            dev.read(0, all);
            assertThat(all.array()).isEqualTo(bytes);
            dev.write(512, ByteBuffer.wrap(new byte[512]));
            dev.flush();
        }
        byte[] after = Files.readAllBytes(file);
        assertThat(Arrays.copyOfRange(after, 512, 1024)).containsOnly(0);
    }

    @Test
    void keepsItsContract() throws Exception {
        Path file = TestImages.create(dir.resolve("img"), 4096, 2);
        try (FileBlockDevice dev = FileBlockDevice.open(file, false)) {
            assertThat(dev.size()).isEqualTo(4096);
            assertThat(dev.isWritable()).isFalse();
            assertThatThrownBy(() -> dev.write(0, ByteBuffer.allocate(512))).isInstanceOf(ReadOnlyDeviceException.class);
            assertThatThrownBy(() -> dev.read(4096, ByteBuffer.allocate(512))).isInstanceOf(IllegalArgumentException.class);
        }
        Files.write(dir.resolve("odd"), new byte[1000]);
        assertThatThrownBy(() -> FileBlockDevice.open(dir.resolve("odd"), false)).hasMessageContaining("multiple of 512");
        // A file truncated underneath the device: EOF, as before.
        Path shrinking = TestImages.create(dir.resolve("shrink"), 8192, 3);
        try (FileBlockDevice dev = FileBlockDevice.open(shrinking, false)) {
            try (var ch = java.nio.channels.FileChannel.open(shrinking, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(4096);
            }
            assertThatThrownBy(() -> dev.read(4096, ByteBuffer.allocate(512))).isInstanceOf(EOFException.class);
        }
    }
}
