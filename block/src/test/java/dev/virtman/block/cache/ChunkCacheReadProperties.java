package dev.virtman.block.cache;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any aligned read of a cache, whatever mix of cached, in-flight and missing chunks it spans,
 * returns exactly the source's bytes. The image's last chunk is short (an image need not be a
 * multiple of the chunk size), so reads at the end exercise it.
 */
class ChunkCacheReadProperties {
    private static final int CHUNK = 8192;
    private static final int SECTOR = 512;
    private static final long IMAGE_SIZE = 40L * CHUNK + 3 * SECTOR;

    private static Path dir;
    private static byte[] image;
    private static FileBlockDevice source;
    private static ChunkFetcher fetcher;
    private static ChunkCache cache;

    @BeforeContainer
    static void open() throws IOException {
        dir = Files.createTempDirectory("chunk-cache-props");
        Path file = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 5);
        image = Files.readAllBytes(file);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        source = FileBlockDevice.open(file, false);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, source), CacheTestSupport.QUICK);
        cache = ChunkCache.open(dir.resolve("cache"), manifest, fetcher, ChunkCache.Options.defaults(registry));
    }

    @AfterContainer
    static void close() throws IOException {
        cache.close();
        fetcher.close();
        source.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(tries = 400)
    void readsMatchTheSource(@ForAll @IntRange(min = 0, max = 1 << 20) final int startSector,
                             @ForAll @IntRange(min = 1, max = 64) final int sectors) throws IOException {
        long totalSectors = IMAGE_SIZE / SECTOR;
        int length = (int) Math.min(sectors, totalSectors) * SECTOR;
        long offset = (startSector % (totalSectors - length / SECTOR + 1)) * SECTOR;
        ByteBuffer dst = ByteBuffer.allocate(length);
        cache.read(offset, dst);
        assertThat(dst.hasRemaining()).isFalse();
        assertThat(Arrays.equals(dst.array(), 0, length, image, (int) offset, (int) offset + length))
                .as("read %d+%d", offset, length).isTrue();
    }
}
