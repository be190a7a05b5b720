package dev.virtman.block.cache;

import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The presence bitmap's on-disk format stays readable: {@code present-v1.bitmap} was written by
 * the PresenceBitmap that predates the shared {@code BitmapFile} (130 chunks, chunks 0, 1, 63,
 * 64, 100 and 129 present), and today's code must load it and write the same bytes.
 */
class PresenceBitmapFormatTest {
    private static final String FIXTURE = "present-v1.bitmap";
    private static final int CHUNKS = 130;
    private static final int CHUNK_SIZE = 4096;
    private static final int[] PRESENT = {0, 1, 63, 64, 100, 129};

    @TempDir
    Path dir;

    /** The manifest the fixture was written for (its image id is in the header). */
    private static ChunkManifest manifest() {
        byte[] hashes = new byte[CHUNKS * ChunkManifest.HASH_LENGTH];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = (byte) (i * 7);
        }
        return ChunkManifest.of((long) CHUNKS * CHUNK_SIZE - 100, CHUNK_SIZE, hashes);
    }

    private Path fixtureCopy() throws IOException {
        return Fixtures.copy(PresenceBitmapFormatTest.class, FIXTURE, dir);
    }

    @Test
    void fixtureIsTheDocumentedLayout() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(fixtureCopy()));
        // Offsets written out, not taken from the class under test.
        assertThat(b.capacity()).isEqualTo(64 + 3 * 8);
        assertThat(b.getInt(0)).isEqualTo(0x564D5042);
        assertThat(b.getShort(4)).isEqualTo((short) 1);
        assertThat(b.getLong(8)).isEqualTo(CHUNKS);
        byte[] id = new byte[32];
        b.get(16, id);
        assertThat(id).isEqualTo(manifest().imageId());
        assertThat(b.getLong(64)).isEqualTo(0x8000_0000_0000_0003L);
        assertThat(b.getLong(72)).isEqualTo(0x0000_0010_0000_0001L);
        assertThat(b.getLong(80)).isEqualTo(0x2L);
    }

    @Test
    void aFileWrittenByTheOldCodeLoadsWithItsBits() throws IOException {
        Path file = fixtureCopy();
        assertThat(PresenceBitmap.countPresent(file, manifest())).isEqualTo(PRESENT.length);
        PresenceBitmap.Opened opened = PresenceBitmap.open(file, manifest());
        try (PresenceBitmap bitmap = opened.bitmap()) {
            assertThat(opened.reset()).as(opened.resetReason()).isFalse();
            assertThat(bitmap.presentCount()).isEqualTo(PRESENT.length);
            assertThat(IntStream.range(0, CHUNKS).filter(bitmap::isSet).toArray()).containsExactly(PRESENT);
        }
    }

    @Test
    void todaysCodeWritesTheSameBytes() throws IOException {
        Path file = dir.resolve("new.bitmap");
        PresenceBitmap.Opened opened = PresenceBitmap.open(file, manifest());
        try (PresenceBitmap bitmap = opened.bitmap()) {
            assertThat(opened.reset()).isTrue();
            for (int i : PRESENT) {
                bitmap.set(i);
            }
            bitmap.persist(PRESENT, PRESENT.length);
            bitmap.force();
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(Files.readAllBytes(fixtureCopy()));
    }

    @Test
    void bitsPastTheLastChunkDoNotCount() throws IOException {
        Path file = fixtureCopy();
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).putLong(80, 0xFFFF_FFFF_FFFF_FFF2L);
        Files.write(file, bytes);
        assertThat(PresenceBitmap.countPresent(file, manifest())).isEqualTo(PRESENT.length);
        try (PresenceBitmap bitmap = PresenceBitmap.open(file, manifest()).bitmap()) {
            assertThat(bitmap.presentCount()).isEqualTo(PRESENT.length);
            assertThat(bitmap.isSet(CHUNKS - 1)).isTrue();
            assertThat(bitmap.isSet(CHUNKS - 2)).isFalse();
        }
    }

    @Test
    void clearingAChunkReachesTheFile() throws IOException {
        Path file = fixtureCopy();
        try (PresenceBitmap bitmap = PresenceBitmap.open(file, manifest()).bitmap()) {
            bitmap.clearDurably(64);
            assertThat(bitmap.presentCount()).isEqualTo(PRESENT.length - 1);
        }
        assertThat(ByteBuffer.wrap(Files.readAllBytes(file)).getLong(72)).isEqualTo(0x0000_0010_0000_0000L);
        assertThat(PresenceBitmap.countPresent(file, manifest())).isEqualTo(PRESENT.length - 1);
    }
}
