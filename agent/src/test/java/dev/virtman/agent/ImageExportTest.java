package dev.virtman.agent;

import dev.virtman.block.TestImages;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** An image's agent stack over file parents, driven with SCSI commands as the target would. */
class ImageExportTest {
    private static final int CHUNK = 64 << 10;
    private static final long IMAGE_SIZE = 16L * CHUNK;
    private static final int READ_10 = 0x28;
    private static final int BLOCK = 512;
    private static final int LBA_OUT_OF_RANGE_ASC = 0x21;
    private static final FetchPolicy FAST = FetchPolicy.DEFAULT.withAttemptTimeout(Duration.ofSeconds(2))
            .withRounds(1, Duration.ZERO);

    @TempDir
    Path dir;

    @Test
    void servesTheImageAndCountsWhatItFetched() throws IOException {
        Path image = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 1);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image);
        try (ImageExport export = open(manifest, List.of(image.toUri().toString()))) {
            byte[] all = readAll(export);
            assertThat(all).isEqualTo(Files.readAllBytes(image));
            assertThat(export.stats().fetches()).isEqualTo(manifest.chunkCount());
            assertThat(export.parentSet().parents().getFirst().bytesFetched()).isEqualTo((double) IMAGE_SIZE);
            readAll(export);
            assertThat(export.stats().fetches()).as("a warm read fetches nothing").isEqualTo(manifest.chunkCount());
        }
    }

    @Test
    void wrongDataFromTheFirstParentIsNeverServedTheSecondParentIsUsed() throws IOException {
        Path good = TestImages.create(dir.resolve("good.raw"), IMAGE_SIZE, 2);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(good);
        Path bad = Files.copy(good, dir.resolve("bad.raw"));
        corrupt(bad, 3L * CHUNK + 100);
        try (ImageExport export = open(manifest, List.of(bad.toUri().toString(), good.toUri().toString()))) {
            assertThat(readAll(export)).isEqualTo(Files.readAllBytes(good));
            assertThat(export.parentSet().parents().get(1).bytesFetched()).as("chunk 3 came from the good parent")
                    .isGreaterThanOrEqualTo(CHUNK);
        }
    }

    @Test
    void wrongDataFromTheOnlyParentFailsTheReadWithMediumError() throws IOException {
        Path image = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 3);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image);
        corrupt(image, 5L * CHUNK);
        try (ImageExport export = open(manifest, List.of(image.toUri().toString()))) {
            ScsiResponse bad = read10(export, 5L * CHUNK / BLOCK, CHUNK / BLOCK);
            assertThat(bad.status()).isEqualTo(ScsiStatus.CHECK_CONDITION.code());
            assertThat(bad.senseData()[SenseData.SENSE_KEY_OFFSET] & 0x0F).isEqualTo(SenseKey.MEDIUM_ERROR.code());
            ScsiResponse ok = read10(export, 4L * CHUNK / BLOCK, CHUNK / BLOCK);
            assertThat(ok.status()).as("other chunks are still served").isZero();
            assertThat(export.cache().isPresent(5)).isFalse();
        }
    }

    @Test
    void readBeyondTheEndGetsLbaOutOfRange() throws IOException {
        Path image = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 4);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image);
        try (ImageExport export = open(manifest, List.of(image.toUri().toString()))) {
            ScsiResponse r = read10(export, IMAGE_SIZE / BLOCK - 1, 2);
            assertThat(r.status()).isEqualTo(ScsiStatus.CHECK_CONDITION.code());
            assertThat(r.senseData()[SenseData.SENSE_KEY_OFFSET] & 0x0F).isEqualTo(SenseKey.ILLEGAL_REQUEST.code());
            assertThat(r.senseData()[SenseData.ASC_OFFSET] & 0xFF).isEqualTo(LBA_OUT_OF_RANGE_ASC);
        }
    }

    @Test
    void aReopenedCacheFetchesNothingItAlreadyHad() throws IOException {
        Path image = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 5);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image);
        String url = image.toUri().toString();
        try (ImageExport export = open(manifest, List.of(url))) {
            read10(export, 0, 4 * CHUNK / BLOCK);
            export.cache().flush();
        }
        try (ImageExport export = open(manifest, List.of(url))) {
            assertThat(read10(export, 0, 4 * CHUNK / BLOCK).status()).isZero();
            assertThat(export.stats().fetches()).isZero();
            assertThat(export.stats().presentChunks()).isEqualTo(4);
        }
    }

    @Test
    void parentsCanBeReplacedWhileServing() throws IOException {
        Path first = TestImages.create(dir.resolve("first.raw"), IMAGE_SIZE, 6);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(first);
        Path second = Files.copy(first, dir.resolve("second.raw"));
        try (ImageExport export = open(manifest, List.of(first.toUri().toString()))) {
            read10(export, 0, CHUNK / BLOCK);
            export.replaceParents(List.of(second.toUri().toString()));
            read10(export, 8L * CHUNK / BLOCK, CHUNK / BLOCK);
            assertThat(export.parents()).containsExactly(second.toUri().toString());
            assertThat(export.parentSet().parents().getFirst().bytesFetched()).isEqualTo((double) CHUNK);
        }
    }

    @Test
    void theUpstreamCapPacesFetches() throws IOException {
        Path image = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 8);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image);
        long cap = 2L << 20;
        try (ImageExport export = ImageExport.open(new ImageConfig("capped", List.of(image.toUri().toString()), null),
                manifest, dir.resolve("cache"), ExportOptions.of(new ParentConnector(InitiatorOptions.defaults()), FAST,
                        ChunkCache.Options.defaults(new SimpleMeterRegistry())).withCaps(BandwidthCap.bucket(cap), null))) {
            long start = System.nanoTime();
            readAll(export);
            double seconds = (System.nanoTime() - start) / 1e9;
            // 1 MiB at 2 MiB/s; the bucket starts full with a tenth of a second of traffic, so the
            // fetches can never take less than (1 MiB - cap / 10) / cap.
            assertThat(seconds).isGreaterThanOrEqualTo((IMAGE_SIZE - cap / 10) / (double) cap * 0.95);
        }
    }

    private ImageExport open(final ChunkManifest manifest, final List<String> parents) throws IOException {
        return ImageExport.open(new ImageConfig("test", parents, null), manifest, dir.resolve("cache"),
                ExportOptions.of(new ParentConnector(InitiatorOptions.defaults()), FAST,
                        ChunkCache.Options.defaults(new SimpleMeterRegistry())));
    }

    private static void corrupt(final Path file, final long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0xFF);
        }
    }

    private static byte[] readAll(final ImageExport export) {
        byte[] all = new byte[Math.toIntExact(IMAGE_SIZE)];
        int blocksPerRead = 3 * CHUNK / BLOCK / 2;
        for (long lba = 0; lba < IMAGE_SIZE / BLOCK; lba += blocksPerRead) {
            int n = (int) Math.min(blocksPerRead, IMAGE_SIZE / BLOCK - lba);
            ScsiResponse r = read10(export, lba, n);
            assertThat(r.status()).as("READ at LBA %d", lba).isZero();
            ByteBuffer data = r.dataIn();
            data.get(all, (int) (lba * BLOCK), n * BLOCK);
        }
        return all;
    }

    private static ScsiResponse read10(final ImageExport export, final long lba, final int blocks) {
        ByteBuffer cdb = ByteBuffer.allocate(10);
        cdb.put((byte) READ_10).put((byte) 0).putInt((int) lba).put((byte) 0).putShort((short) blocks).put((byte) 0);
        cdb.flip();
        return export.luns().execute(new ScsiCommand(0, cdb, blocks * BLOCK, null));
    }
}
