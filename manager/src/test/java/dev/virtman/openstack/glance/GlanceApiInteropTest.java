package dev.virtman.openstack.glance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.openstack.glance.GlanceException.Kind;
import dev.virtman.testing.GlanceProcess;
import dev.virtman.testing.Commands;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GlanceClient} and {@link GlanceImporter} against a real Glance ({@link GlanceProcess}:
 * Debian's glance-api, noauth, SQLite, file store), shared with the other Glance tests.
 */
@Tag("interop")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class GlanceApiInteropTest {

    private static final int MIB = 1 << 20;
    /** {@code stat %b} counts 512-byte blocks. */
    private static final int SECTOR = 512;
    private static GlanceProcess glance;
    private static GlanceClient client;

    @TempDir
    Path dir;

    @BeforeAll
    static void startGlance() {
        glance = GlanceProcess.shared();
        client = new GlanceClient(glance.url(), TokenSource.NONE);
    }

    @Test
    void imageRecordCarriesTheHashesGlanceComputedAtUpload() throws Exception {
        Path file = RandomFiles.write(dir.resolve("a.raw"), 3 * MIB + 17, 1);
        String id = glance.upload("record-test", "raw", file);

        GlanceImage image = client.image(id);

        assertThat(image.id()).isEqualTo(id);
        assertThat(image.isActive()).isTrue();
        assertThat(image.diskFormat()).isEqualTo("raw");
        assertThat(image.size()).isEqualTo(Files.size(file));
        assertThat(image.osHashAlgo()).isEqualTo("sha512");
        assertThat(image.osHashValue()).isEqualTo(hex("SHA-512", file));
        assertThat(image.checksum()).isEqualTo(hex("MD5", file));
        try (InputStream in = client.openData(id)) {
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(file));
        }
    }

    @Test
    void unknownImageIsNotFound() {
        assertThatThrownBy(() -> client.image(UUID.randomUUID().toString()))
                .isInstanceOfSatisfying(GlanceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
        assertThatThrownBy(() -> client.image("../../v2/schemas"))
                .isInstanceOfSatisfying(GlanceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
    }

    @Test
    void rawImageIsImportedVerifiedAndSparse() throws Exception {
        Path file = dir.resolve("sparse.raw");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(16L * MIB);
            f.seek(5L * MIB + 3);
            f.write("data in the middle".getBytes());
        }
        String id = glance.upload("sparse", "raw", file);
        Path out = dir.resolve("imported");

        Path raw = new GlanceImporter(client, new Qcow2Converter()).fetch(client.image(id), out, GlanceImporter.Progress.NONE);

        assertThat(Files.readAllBytes(raw)).isEqualTo(Files.readAllBytes(file));
        assertThat(raw.getFileName().toString()).isEqualTo(GlanceImporter.fileName(client.image(id)));
        assertThat(allocatedBytes(raw)).as("zero runs stay holes").isLessThan(MIB);
        assertThat(list(out)).containsExactly(raw);
    }

    @Test
    void qcow2ImageIsConvertedToTheSameRawBytes() throws Exception {
        Path source = RandomFiles.write(dir.resolve("src.raw"), 4 * MIB, 2);
        Path qcow2 = dir.resolve("src.qcow2");
        qemuImg("convert", "-f", "raw", "-O", "qcow2", source.toString(), qcow2.toString());
        String id = glance.upload("qcow", "qcow2", qcow2);

        Path raw = new GlanceImporter(client, new Qcow2Converter())
                .fetch(client.image(id), dir.resolve("imported"), GlanceImporter.Progress.NONE);

        assertThat(Files.readAllBytes(raw)).isEqualTo(Files.readAllBytes(source));
        assertThat(list(dir.resolve("imported"))).containsExactly(raw);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(raw)))
                .as("qemu-img's output, like a raw download, is readable by the importing user only")
                .isEqualTo("rw-------");
    }

    @Test
    void corruptedDownloadIsRejectedAndNothingIsLeft() throws Exception {
        Path file = RandomFiles.write(dir.resolve("c.raw"), 2 * MIB, 3);
        String id = glance.upload("corrupt", "raw", file);
        GlanceImage image = client.image(id);
        try (RandomAccessFile stored = new RandomAccessFile(glance.storedFile(id).toFile(), "rw")) {
            stored.seek(MIB);
            stored.write(new byte[] {1, 2, 3, 4});
        }
        Path out = dir.resolve("imported");

        assertThatThrownBy(() -> new GlanceImporter(client, new Qcow2Converter()).fetch(image, out,
                GlanceImporter.Progress.NONE))
                .isInstanceOfSatisfying(GlanceException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.INTEGRITY);
                    assertThat(e.getMessage()).contains("os_hash_value (sha512)").contains("checksum (md5)")
                            .contains(image.osHashValue());
                });
        assertThat(list(out)).isEmpty();
    }

    @Test
    void qcow2NamingABackingFileIsRefused() throws Exception {
        Path secret = RandomFiles.write(dir.resolve("host-secret.raw"), MIB, 4);
        Path qcow2 = dir.resolve("backed.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-F", "raw", "-b", secret.toString(), qcow2.toString());
        String id = glance.upload("backed", "qcow2", qcow2);

        assertThatThrownBy(() -> new GlanceImporter(client, new Qcow2Converter())
                .fetch(client.image(id), dir.resolve("imported"), GlanceImporter.Progress.NONE))
                .isInstanceOfSatisfying(GlanceException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("backing file");
                });
        assertThat(list(dir.resolve("imported"))).isEmpty();
    }

    static String hex(final String algorithm, final Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(Files.readAllBytes(file)));
    }

    private static long allocatedBytes(final Path file) {
        return Long.parseLong(Commands.run(Duration.ofSeconds(30), "stat", "-c", "%b", file.toString())
                .requireSuccess().output().strip()) * SECTOR;
    }

    static void qemuImg(final String... args) {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("qemu-img"));
        command.addAll(java.util.List.of(args));
        Commands.run(Duration.ofMinutes(2), null, command).requireSuccess();
    }

    private static java.util.List<Path> list(final Path d) throws IOException {
        if (!Files.exists(d)) {
            return java.util.List.of();
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }
}
