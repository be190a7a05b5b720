package dev.virtman.block.overlay;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CopyOnWriteOverlayTest {
    private static final int GRAIN = 4096;
    private static final int SECTOR = 512;
    /** Not a multiple of the grain: the base ends inside a grain. */
    private static final long BASE_SIZE = 10L * GRAIN + 3 * SECTOR;
    private static final long VOLUME_SIZE = 16L * GRAIN;

    @TempDir
    Path dir;
    private Path baseFile;
    private byte[] baseBytes;
    private FileBlockDevice base;
    private OverlayGeometry geometry;

    @BeforeEach
    void setUp() throws IOException {
        baseFile = TestImages.create(dir.resolve("image.raw"), BASE_SIZE, 11);
        baseBytes = Files.readAllBytes(baseFile);
        base = FileBlockDevice.open(baseFile, false);
        geometry = new OverlayGeometry(VOLUME_SIZE, GRAIN, id(1));
    }

    @AfterEach
    void tearDown() throws IOException {
        base.close();
    }

    static byte[] id(final int n) {
        byte[] id = new byte[32];
        Arrays.fill(id, (byte) n);
        return id;
    }

    @Test
    void anUnwrittenVolumeReadsItsBaseThenZeros() throws IOException {
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.create(dir.resolve("v"), geometry, base)) {
            byte[] all = read(v, 0, (int) VOLUME_SIZE);
            assertThat(Arrays.equals(all, 0, (int) BASE_SIZE, baseBytes, 0, (int) BASE_SIZE)).isTrue();
            assertThat(Arrays.copyOfRange(all, (int) BASE_SIZE, all.length)).containsOnly(0);
            assertThat(v.writtenGrains()).isZero();
        }
    }

    @Test
    void aPartialGrainWriteKeepsTheRestOfTheGrainFromTheBase() throws IOException {
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.create(dir.resolve("v"), geometry, base)) {
            byte[] sector = filled(SECTOR, 0x5a);
            v.write(GRAIN + SECTOR, ByteBuffer.wrap(sector));
            byte[] expected = Arrays.copyOf(baseBytes, (int) VOLUME_SIZE);
            System.arraycopy(sector, 0, expected, GRAIN + SECTOR, SECTOR);
            assertThat(read(v, 0, (int) VOLUME_SIZE)).isEqualTo(expected);
            assertThat(v.writtenGrains()).isEqualTo(1);
        }
        assertThat(sha256(baseFile)).isEqualTo(sha256(baseBytes));
    }

    @Test
    void theGrainWhereTheBaseEndsIsCopiedUpWithZerosAfterTheBase() throws IOException {
        int lastBaseGrain = (int) (BASE_SIZE / GRAIN);
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.create(dir.resolve("v"), geometry, base)) {
            v.write((long) lastBaseGrain * GRAIN, ByteBuffer.wrap(filled(SECTOR, 7)));
            byte[] grain = read(v, (long) lastBaseGrain * GRAIN, GRAIN);
            assertThat(Arrays.copyOf(grain, SECTOR)).containsOnly(7);
            assertThat(Arrays.equals(grain, SECTOR, 3 * SECTOR, baseBytes, lastBaseGrain * GRAIN + SECTOR,
                    lastBaseGrain * GRAIN + 3 * SECTOR)).isTrue();
            assertThat(Arrays.copyOfRange(grain, 3 * SECTOR, GRAIN)).containsOnly(0);
        }
    }

    @Test
    void flushedWritesSurviveAReopen() throws IOException {
        Path vdir = dir.resolve("v");
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.create(vdir, geometry, base)) {
            v.write(3 * GRAIN - SECTOR, ByteBuffer.wrap(filled(2 * SECTOR, 0x11)));
            v.flush();
        }
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.open(vdir, geometry, base)) {
            assertThat(read(v, 3 * GRAIN - SECTOR, 2 * SECTOR)).containsOnly(0x11);
            assertThat(v.writtenGrains()).isEqualTo(2);
        }
    }

    @Test
    void aCrashBeforeFlushLosesOnlyUnflushedGrainsNeverFlushedOnes() throws IOException {
        Path vdir = dir.resolve("v");
        CopyOnWriteOverlay crashed = CopyOnWriteOverlay.create(vdir, geometry, base);
        crashed.write(0, ByteBuffer.wrap(filled(SECTOR, 1)));
        crashed.flush();
        crashed.write(5L * GRAIN, ByteBuffer.wrap(filled(SECTOR, 2)));
        // No flush, no close: a second opener sees what a restart after a crash would see.
        try (CopyOnWriteOverlay after = CopyOnWriteOverlay.open(vdir, geometry, base)) {
            assertThat(read(after, 0, SECTOR)).containsOnly(1);
            assertThat(read(after, 5L * GRAIN, SECTOR))
                    .isEqualTo(Arrays.copyOfRange(baseBytes, 5 * GRAIN, 5 * GRAIN + SECTOR));
            assertThat(after.writtenGrains()).isEqualTo(1);
        }
        crashed.flush();
        try (CopyOnWriteOverlay after = CopyOnWriteOverlay.open(vdir, geometry, base)) {
            assertThat(read(after, 5L * GRAIN, SECTOR)).containsOnly(2);
        }
        crashed.close();
    }

    @Test
    void aVolumeIsNeverOpenedOverAnotherBaseOrGeometry() throws IOException {
        Path vdir = dir.resolve("v");
        CopyOnWriteOverlay.create(vdir, geometry, base).close();
        assertThatThrownBy(() -> CopyOnWriteOverlay.open(vdir, new OverlayGeometry(VOLUME_SIZE, GRAIN, id(2)), base))
                .isInstanceOf(OverlayFormatException.class).hasMessageContaining("base");
        assertThatThrownBy(() -> CopyOnWriteOverlay.open(vdir, new OverlayGeometry(VOLUME_SIZE, 2 * GRAIN, id(1)), base))
                .isInstanceOf(OverlayFormatException.class).hasMessageContaining("grain size");
        assertThatThrownBy(() -> CopyOnWriteOverlay.create(vdir, geometry, base))
                .isInstanceOf(IOException.class);
    }

    @Test
    void deleteRemovesTheVolumesFilesAndLeavesTheBase() throws IOException {
        Path vdir = dir.resolve("v");
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.create(vdir, geometry, base)) {
            v.write(0, ByteBuffer.wrap(filled(GRAIN, 9)));
        }
        assertThat(CopyOnWriteOverlay.exists(vdir)).isTrue();
        CopyOnWriteOverlay.delete(vdir);
        assertThat(vdir).doesNotExist();
        assertThat(CopyOnWriteOverlay.exists(vdir)).isFalse();
        CopyOnWriteOverlay.delete(vdir);
        assertThat(sha256(baseFile)).isEqualTo(sha256(baseBytes));
    }

    @Test
    void badRangesAndBadGeometriesAreRefused() throws IOException {
        try (CopyOnWriteOverlay v = CopyOnWriteOverlay.create(dir.resolve("v"), geometry, base)) {
            assertThatThrownBy(() -> v.write(VOLUME_SIZE - SECTOR, ByteBuffer.allocate(2 * SECTOR)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> v.read(-SECTOR, ByteBuffer.allocate(SECTOR)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> CopyOnWriteOverlay.create(dir.resolve("small"),
                new OverlayGeometry(4L * GRAIN, GRAIN, id(1)), base))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("smaller than its base");
        assertThatThrownBy(() -> new OverlayGeometry(VOLUME_SIZE, 3000, id(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new OverlayGeometry(VOLUME_SIZE + 1, GRAIN, id(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    static byte[] read(final CopyOnWriteOverlay v, final long offset, final int length) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(length);
        v.read(offset, dst);
        assertThat(dst.hasRemaining()).isFalse();
        return dst.array();
    }

    static byte[] filled(final int length, final int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    static String sha256(final Path file) throws IOException {
        return sha256(Files.readAllBytes(file));
    }

    static String sha256(final byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
