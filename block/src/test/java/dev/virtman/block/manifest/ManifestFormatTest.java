package dev.virtman.block.manifest;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManifestFormatTest {
    private static final int CHUNK = 4096;

    @TempDir
    Path dir;

    @Test
    void builderHashesEveryChunkIncludingAShortLastOne() throws Exception {
        long size = 10 * CHUNK + 1000;
        Path image = TestImages.create(dir.resolve("img"), size, 1);
        ChunkManifest m = new ManifestBuilder(CHUNK, 2, ManifestBuilder.ProgressListener.NONE).build(image);

        assertThat(m.chunkCount()).isEqualTo(11);
        assertThat(m.chunkLength(10)).isEqualTo(1000);
        byte[] bytes = Files.readAllBytes(image);
        for (int i = 0; i < m.chunkCount(); i++) {
            byte[] chunk = Arrays.copyOfRange(bytes, i * CHUNK, (int) Math.min(size, (long) (i + 1) * CHUNK));
            assertThat(m.hash(i)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(chunk));
            assertThat(m.matches(i, ByteBuffer.wrap(chunk))).isTrue();
        }
        byte[] wrong = Arrays.copyOfRange(bytes, 0, CHUNK);
        wrong[17] ^= 1;
        assertThat(m.matches(0, ByteBuffer.wrap(wrong))).isFalse();
        assertThat(m.matches(10, ByteBuffer.wrap(new byte[CHUNK]))).as("wrong length").isFalse();
    }

    @Test
    void parallelAndSingleThreadedBuildsAgreeAndDeviceEqualsFile() throws Exception {
        Path image = TestImages.create(dir.resolve("img"), 64 * CHUNK, 2);
        List<long[]> progress = new ArrayList<>();
        ChunkManifest one = new ManifestBuilder(CHUNK, 1, (d, t) -> progress.add(new long[] {d, t})).build(image);
        ChunkManifest two;
        try (FileBlockDevice dev = FileBlockDevice.open(image, false)) {
            two = new ManifestBuilder(CHUNK, 2, ManifestBuilder.ProgressListener.NONE).build(dev);
        }
        assertThat(two.imageIdHex()).isEqualTo(one.imageIdHex());
        assertThat(progress).isNotEmpty();
        assertThat(progress.get(progress.size() - 1)).containsExactly(64L * CHUNK, 64L * CHUNK);
    }

    @Test
    void fileRoundTripKeepsTheImageId() throws Exception {
        Path image = TestImages.create(dir.resolve("img"), 5 * CHUNK, 3);
        ChunkManifest m = new ManifestBuilder(CHUNK, 2, ManifestBuilder.ProgressListener.NONE).build(image);
        Path file = dir.resolve("img.manifest");
        ManifestFormat.write(m, file);

        ChunkManifest back = ManifestFormat.read(file);
        assertThat(back.imageIdHex()).isEqualTo(m.imageIdHex());
        assertThat(back.imageSize()).isEqualTo(5L * CHUNK);
        assertThat(back.chunkSize()).isEqualTo(CHUNK);
        assertThat(Files.size(file)).isEqualTo(ManifestFormat.HEADER_LENGTH + 5L * ChunkManifest.HASH_LENGTH);
        // The id is the SHA-256 of the file: anyone can check it with sha256sum.
        assertThat(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))).isEqualTo(m.imageId());
    }

    @Test
    void differentContentOrChunkSizeGivesADifferentId() throws Exception {
        Path a = TestImages.create(dir.resolve("a"), 8 * CHUNK, 4);
        Path b = TestImages.create(dir.resolve("b"), 8 * CHUNK, 5);
        ManifestBuilder small = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE);
        ManifestBuilder big = new ManifestBuilder(2 * CHUNK, 1, ManifestBuilder.ProgressListener.NONE);
        assertThat(small.build(a).imageIdHex()).isNotEqualTo(small.build(b).imageIdHex());
        assertThat(small.build(a).imageIdHex()).isNotEqualTo(big.build(a).imageIdHex());
    }

    @Test
    void rejectsMalformedFilesWithClearErrors() throws Exception {
        Path image = TestImages.create(dir.resolve("img"), 4 * CHUNK, 6);
        byte[] good = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image).encode();

        assertThatThrownBy(() -> ManifestFormat.decode(Arrays.copyOf(good, 10)))
                .isInstanceOf(ManifestFormatException.class).hasMessageContaining("truncated header");
        assertThatThrownBy(() -> ManifestFormat.decode(Arrays.copyOf(good, good.length - 1)))
                .hasMessageContaining("length");
        assertThatThrownBy(() -> ManifestFormat.decode(patchInt(good, ManifestFormat.OFFSET_MAGIC, 0x12345678)))
                .hasMessageContaining("magic");
        assertThatThrownBy(() -> ManifestFormat.decode(patchShort(good, ManifestFormat.OFFSET_VERSION, 2)))
                .hasMessageContaining("version 2");
        assertThatThrownBy(() -> ManifestFormat.decode(patchShort(good, ManifestFormat.OFFSET_HASH_ALGORITHM, 9)))
                .hasMessageContaining("hash algorithm");
        assertThatThrownBy(() -> ManifestFormat.decode(patchInt(good, ManifestFormat.OFFSET_CHUNK_SIZE, 5000)))
                .hasMessageContaining("power of two");
        // A lying image size: the count no longer matches, nothing huge is allocated.
        assertThatThrownBy(() -> ManifestFormat.decode(patchLong(good, ManifestFormat.OFFSET_IMAGE_SIZE, 1L << 40)))
                .hasMessageContaining("chunks");
        assertThatThrownBy(() -> ManifestFormat.decode(patchLong(good, ManifestFormat.OFFSET_CHUNK_COUNT, 1L << 20)))
                .hasMessageContaining("chunk count");
        Path bad = dir.resolve("bad.manifest");
        Files.write(bad, patchInt(good, ManifestFormat.OFFSET_MAGIC, 0));
        assertThatThrownBy(() -> ManifestFormat.read(bad)).hasMessageContaining(bad.toString());
    }

    private static byte[] patchInt(final byte[] src, final int offset, final int value) {
        byte[] copy = src.clone();
        ByteBuffer.wrap(copy).putInt(offset, value);
        return copy;
    }

    private static byte[] patchShort(final byte[] src, final int offset, final int value) {
        byte[] copy = src.clone();
        ByteBuffer.wrap(copy).putShort(offset, (short) value);
        return copy;
    }

    private static byte[] patchLong(final byte[] src, final int offset, final long value) {
        byte[] copy = src.clone();
        ByteBuffer.wrap(copy).putLong(offset, value);
        return copy;
    }

    @Test
    void rejectsBadGeometryWhenBuilding() throws IOException {
        assertThatThrownBy(() -> new ManifestBuilder(3000, 1, ManifestBuilder.ProgressListener.NONE))
                .isInstanceOf(IllegalArgumentException.class);
        Path empty = Files.createFile(dir.resolve("empty"));
        assertThatThrownBy(() -> ManifestBuilder.withDefaults().build(empty))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }
}
