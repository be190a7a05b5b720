package dev.virtman.block.overlay;

import dev.virtman.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The overlay bitmap's on-disk format stays readable: {@code bitmap-v1} was written by the
 * OverlayBitmap that predates the shared {@code BitmapFile} (130 grains of 4 KiB; grains 0, 5,
 * 64, 127 and 129 persisted, grain 7 marked written in memory only), and today's code must load
 * it and write the same bytes.
 */
class OverlayBitmapFormatTest {
    private static final String FIXTURE = "bitmap-v1";
    private static final int GRAINS = 130;
    private static final int GRAIN_SIZE = 4096;
    private static final long VOLUME_SIZE = (long) GRAINS * GRAIN_SIZE - 512;
    private static final int[] PERSISTED = {0, 5, 64, 127, 129};
    private static final int MEMORY_ONLY = 7;

    @TempDir
    Path dir;

    private static byte[] baseId() {
        byte[] id = new byte[32];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) (0xA0 + i);
        }
        return id;
    }

    private static OverlayGeometry geometry() {
        return new OverlayGeometry(VOLUME_SIZE, GRAIN_SIZE, baseId());
    }

    private Path fixtureCopy() throws IOException {
        return Fixtures.copy(OverlayBitmapFormatTest.class, FIXTURE, dir);
    }

    @Test
    void fixtureIsTheDocumentedLayout() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(fixtureCopy()));
        // Offsets written out, not taken from the class under test.
        assertThat(b.capacity()).isEqualTo(64 + 3 * 8);
        assertThat(b.getInt(0)).isEqualTo(0x564D4F56);
        assertThat(b.getShort(4)).isEqualTo((short) 1);
        assertThat(b.getInt(8)).isEqualTo(GRAIN_SIZE);
        assertThat(b.getLong(16)).isEqualTo(VOLUME_SIZE);
        assertThat(b.getLong(24)).isEqualTo(GRAINS);
        byte[] id = new byte[32];
        b.get(32, id);
        assertThat(id).isEqualTo(baseId());
        assertThat(b.getLong(64)).isEqualTo(0x21L);
        assertThat(b.getLong(72)).isEqualTo(0x8000_0000_0000_0001L);
        assertThat(b.getLong(80)).isEqualTo(0x2L);
    }

    @Test
    void aFileWrittenByTheOldCodeLoadsWithItsDurableBits() throws IOException {
        try (OverlayBitmap bitmap = OverlayBitmap.open(fixtureCopy(), geometry())) {
            assertThat(bitmap.writtenCount()).isEqualTo(PERSISTED.length);
            assertThat(IntStream.range(0, GRAINS).filter(bitmap::isWritten).toArray()).containsExactly(PERSISTED);
            assertThat(IntStream.range(0, GRAINS).filter(bitmap::isDurable).toArray()).containsExactly(PERSISTED);
        }
    }

    @Test
    void todaysCodeWritesTheSameBytes() throws IOException {
        Path file = dir.resolve("new");
        try (OverlayBitmap bitmap = OverlayBitmap.create(file, geometry())) {
            for (int g : PERSISTED) {
                bitmap.markWritten(g);
            }
            bitmap.persist(PERSISTED, PERSISTED.length);
            bitmap.markWritten(MEMORY_ONLY);
            assertThat(bitmap.isWritten(MEMORY_ONLY)).isTrue();
            assertThat(bitmap.isDurable(MEMORY_ONLY)).isFalse();
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(Files.readAllBytes(fixtureCopy()));
    }

    @Test
    void aGrainMarkedAfterTheForceStaysOffDiskWhenItsWordIsPersisted() throws IOException {
        Path file = fixtureCopy();
        try (OverlayBitmap bitmap = OverlayBitmap.open(file, geometry())) {
            bitmap.markWritten(MEMORY_ONLY);
            bitmap.markWritten(6);
            bitmap.persist(new int[] {6}, 1);
        }
        try (OverlayBitmap bitmap = OverlayBitmap.open(file, geometry())) {
            assertThat(bitmap.isWritten(6)).isTrue();
            assertThat(bitmap.isWritten(MEMORY_ONLY)).isFalse();
        }
    }

    @Test
    void bitsPastTheLastGrainAreIgnored() throws IOException {
        Path file = fixtureCopy();
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).putLong(80, 0xFFFF_FFFF_FFFF_FFF2L);
        Files.write(file, bytes);
        try (OverlayBitmap bitmap = OverlayBitmap.open(file, geometry())) {
            assertThat(bitmap.writtenCount()).isEqualTo(PERSISTED.length);
        }
    }

    @Test
    void anotherBaseIsRefused() throws IOException {
        Path file = fixtureCopy();
        assertThatThrownBy(() -> OverlayBitmap.open(file, new OverlayGeometry(VOLUME_SIZE, GRAIN_SIZE, new byte[32])))
                .isInstanceOf(OverlayFormatException.class).hasMessageContaining("not this one");
        assertThatThrownBy(() -> OverlayBitmap.open(file, new OverlayGeometry(VOLUME_SIZE + 64L * GRAIN_SIZE, GRAIN_SIZE, baseId())))
                .isInstanceOf(OverlayFormatException.class).hasMessageContaining("length");
    }
}
