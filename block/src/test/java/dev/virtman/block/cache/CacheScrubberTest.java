package dev.virtman.block.cache;

import dev.virtman.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The background scrub finds a cached chunk that rotted after its first verified read and
 * repairs it from the parent, with nobody reading it; on 1ac25db {@code ChunkCache.scrub()}
 * existed but nothing ran it, so such a chunk waited for a reader.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CacheScrubberTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 64;
    private static final int ROTTEN = 5;

    @TempDir
    Path dir;

    @Test
    void aCorruptedCachedChunkIsRepairedByTheBackgroundScrub() throws Exception {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 7);
        byte[] image = Files.readAllBytes(file);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice source = FileBlockDevice.open(file, false)) {
            CountingBlockDevice upstream = new CountingBlockDevice(source);
            try (ChunkFetcher fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream),
                    CacheTestSupport.STEADY);
                 ChunkCache cache = ChunkCache.open(dir.resolve("cache"), manifest, fetcher,
                         ChunkCache.Options.defaults(registry))) {
                cache.read(0, ByteBuffer.allocate(image.length)); // every chunk cached and verified
                cache.flush(); // ... and written: the rot below must not be overwritten by a late commit
                int fetched = upstream.reads();
                Path data = dir.resolve("cache").resolve(ChunkCache.DATA_FILE);
                try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(new byte[] {9, 9, 9}), (long) ROTTEN * CHUNK + 17);
                }
                try (CacheScrubber scrubber = CacheScrubber.start(() -> List.of(cache), 1L << 20, registry)) {
                    Await.until(() -> count(registry, "virtman.scrub.repaired") == 1, "the scrub repairs the rotten chunk");
                    Await.until(() -> count(registry, "virtman.scrub.chunks") >= CHUNKS, "a whole pass");
                    assertThat(scrubber).isNotNull();
                }
                assertThat(upstream.reads() - fetched).as("only the rotten chunk is fetched again").isEqualTo(1);
                byte[] onDisk = Files.readAllBytes(data);
                assertThat(Arrays.copyOfRange(onDisk, ROTTEN * CHUNK, (ROTTEN + 1) * CHUNK))
                        .isEqualTo(Arrays.copyOfRange(image, ROTTEN * CHUNK, (ROTTEN + 1) * CHUNK));
                assertThat(count(registry, "virtman.scrub.repaired")).as("healthy chunks are not repaired").isEqualTo(1);
            }
        }
    }

    @Test
    void aRateOfZeroMeansNoScrub() {
        assertThat(CacheScrubber.start(List::of, 0, new SimpleMeterRegistry())).isNull();
    }

    /** The rate bounds the work: at 8 chunks a second, a 64-chunk cache is not done in one second. */
    @Test
    void theScrubKeepsToItsRate() throws IOException, InterruptedException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 8);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice source = FileBlockDevice.open(file, false);
             ChunkFetcher fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, source),
                     CacheTestSupport.STEADY);
             ChunkCache cache = ChunkCache.open(dir.resolve("cache"), manifest, fetcher,
                     ChunkCache.Options.defaults(registry))) {
            cache.read(0, ByteBuffer.allocate(CHUNKS * CHUNK));
            cache.flush();
            long started = System.nanoTime();
            try (CacheScrubber ignored = CacheScrubber.start(() -> List.of(cache), 8L * CHUNK, registry)) {
                Await.until(() -> count(registry, "virtman.scrub.chunks") >= 24, "24 chunks scrubbed");
            }
            // A burst of one second (8 chunks), then 8 a second: 24 chunks take at least 2 s.
            assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1900));
        }
    }

    private static double count(final SimpleMeterRegistry registry, final String name) {
        var c = registry.find(name).counter();
        return c == null ? 0 : c.count();
    }

}
