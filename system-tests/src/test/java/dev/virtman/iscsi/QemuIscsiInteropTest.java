package dev.virtman.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.Commands;
import dev.virtman.testing.GuestImages;
import dev.virtman.testing.IscsiTargetUnderTest;
import dev.virtman.testing.QemuImg;
import dev.virtman.testing.QemuProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * QEMU's iscsi:// block driver (libiscsi inside qemu-img and qemu-system-x86_64) against an
 * iSCSI target exporting the guest's raw root filesystem read-only: image metadata, a full read
 * that must be byte-identical to the local file, and a guest booting from a qcow2 overlay whose
 * backing file is the iSCSI LUN, with its writes staying in the overlay.
 *
 * <p>The qemu-img tests run against every {@link TargetImplementation} (tgtd is the baseline that
 * proves the harness); the guest boot against our in-process target unless asked otherwise.
 */
@Tag("interop")
class QemuIscsiInteropTest {
    private static final String IQN = "iqn.2025-01.dev.virtman:interop-guest";
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration POWEROFF_TIMEOUT = Duration.ofMinutes(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static GuestImages guest;

    @BeforeAll
    static void buildGuest() {
        guest = GuestImages.build();
        // The cached image must still be the one build-guest recorded (a test that wrote to it
        // would show up here, not as a confusing mismatch later).
        assertThat(Checksums.sha256(guest.rootfs())).isEqualTo(guest.rootfsSha256());
    }

    static List<TargetImplementation> targets() {
        return TargetImplementation.selected();
    }

    /**
     * A TCG boot costs half a minute or more on this shared machine, so by default only our
     * in-process target boots the guest; {@code -Dvirtman.interop.boot-targets=tgtd,virtman,virtman_serve}
     * boots it from the others too (the tgtd boot proved the harness when it was written).
     */
    static List<TargetImplementation> bootTargets() {
        return TargetImplementation.selected("virtman.interop.boot-targets", List.of(TargetImplementation.VIRTMAN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void qemuImgInfoReportsRawImageOfTheFilesSize(final TargetImplementation impl) throws IOException {
        try (IscsiTargetUnderTest target = impl.start(guest.rootfs(), IQN, false)) {
            Commands.Result info = QemuImg.info(target.url()).requireSuccess();

            JsonNode json = JSON.readTree(info.output());
            assertThat(json.path("format").asText()).isEqualTo("raw");
            assertThat(json.path("virtual-size").asLong()).isEqualTo(Files.size(guest.rootfs()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void qemuImgConvertReadsTheImageByteForByte(final TargetImplementation impl, @TempDir final Path dir) {
        try (IscsiTargetUnderTest target = impl.start(guest.rootfs(), IQN, false)) {
            Path copy = dir.resolve("copy.raw");

            QemuImg.convertToRaw(target.url(), copy).requireSuccess();

            assertThat(Checksums.sha256(copy)).isEqualTo(guest.rootfsSha256());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void qemuImgCompareFindsTheLunEqualToTheFileAndUnequalToAModifiedCopy(
            final TargetImplementation impl, @TempDir final Path dir) throws IOException {
        Path modified = dir.resolve("modified.raw");
        Files.copy(guest.rootfs(), modified);
        flipOneByte(modified, Files.size(modified) / 2 + 12345);

        try (IscsiTargetUnderTest target = impl.start(guest.rootfs(), IQN, false)) {
            Commands.Result same = QemuImg.compareRaw(target.url(), guest.rootfs().toString());
            Commands.Result different = QemuImg.compareRaw(target.url(), modified.toString());

            assertThat(same.exitCode()).as(same.describe()).isZero();
            // qemu-img compare: exit 1 means "images differ" (2 would be an error).
            assertThat(different.exitCode()).as(different.describe()).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bootTargets")
    void guestBootsFromAQcow2OverlayOverTheLunAndItsWritesStayInTheOverlay(
            final TargetImplementation impl, @TempDir final Path dir) throws IOException {
        Path overlay = dir.resolve("overlay.qcow2");
        try (IscsiTargetUnderTest target = impl.start(guest.rootfs(), IQN, false)) {
            QemuImg.createOverlay(target.url(), overlay).requireSuccess();

            try (QemuProcess qemu = QemuProcess.boot(guest, overlay)) {
                String up = qemu.awaitLine(GuestImages.UP_MARKER, BOOT_TIMEOUT);
                assertThat(up).as("guest verified its data blob read over iSCSI")
                        .startsWith(GuestImages.UP_LINE_DATA_OK);
                qemu.awaitLine(GuestImages.DONE_MARKER, POWEROFF_TIMEOUT);
                qemu.awaitExit(POWEROFF_TIMEOUT);
            }

            // The guest's file is in the overlay (read back through the backing chain)...
            Path flattened = dir.resolve("flattened.raw");
            QemuImg.flattenQcow2(overlay, flattened).requireSuccess();
            assertThat(readFileFromExt4(flattened, GuestImages.WRITTEN_FILE)).isEqualTo(GuestImages.WRITTEN_TEXT + "\n");
        }
        // ...and the exported image is untouched.
        assertThat(Checksums.sha256(guest.rootfs())).isEqualTo(guest.rootfsSha256());
    }

    private static void flipOneByte(final Path file, final long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, offset);
            b.put(0, (byte) ~b.get(0));
            b.rewind();
            channel.write(b, offset);
        }
    }

    /** Reads a file out of an ext4 image without mounting it ({@code debugfs -R dump}, e2fsprogs). */
    private static String readFileFromExt4(final Path image, final String path) throws IOException {
        Path extracted = image.resolveSibling("extracted-" + image.getFileName() + ".txt");
        Commands.run(Duration.ofSeconds(30), null,
                List.of("debugfs", "-R", "dump " + path + " " + extracted, image.toString())).requireSuccess();
        assertThat(extracted).as("debugfs extracted %s", path).exists();
        return Files.readString(extracted);
    }
}
