package dev.virtman.block.cache;

import dev.virtman.testing.Await;
import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FaultyBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Single flight: concurrent misses of one chunk cause exactly one upstream fetch. */
class ChunkCacheConcurrencyTest {
    private static final int CHUNK = 4096;
    private static final FetchPolicy PATIENT = CacheTestSupport.QUICK.withAttemptTimeout(Duration.ofSeconds(20));

    @TempDir
    Path dir;

    @Test
    void manyReadersOfOneMissingChunkCauseOneFetch() throws Exception {
        Path file = TestImages.create(dir.resolve("image.raw"), 8L * CHUNK, 3);
        byte[] image = Files.readAllBytes(file);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        int readers = 16;
        try (FileBlockDevice source = FileBlockDevice.open(file, false)) {
            FaultyBlockDevice gate = new FaultyBlockDevice(source, FaultyBlockDevice.Fault.STALL);
            CountingBlockDevice upstream = new CountingBlockDevice(gate);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (ChunkFetcher fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream), PATIENT);
                 ChunkCache cache = ChunkCache.open(dir.resolve("c"), manifest, fetcher,
                         ChunkCache.Options.defaults(registry));
                 ExecutorService pool = Executors.newFixedThreadPool(readers)) {
                List<Future<byte[]>> results = new ArrayList<>();
                for (int i = 0; i < readers; i++) {
                    int offset = 2 * CHUNK + 512 * i % CHUNK;
                    results.add(pool.submit(() -> {
                        ByteBuffer b = ByteBuffer.allocate(512);
                        cache.read(offset, b);
                        return b.array();
                    }));
                }
                // Every reader is now blocked on the one fetch the gate holds (or still starting).
                Await.until(() -> cache.stats().misses() >= readers, "every reader misses");
                assertThat(cache.stats().misses()).isEqualTo(readers);
                gate.release();
                for (int i = 0; i < readers; i++) {
                    int offset = 2 * CHUNK + 512 * i % CHUNK;
                    assertThat(results.get(i).get(10, TimeUnit.SECONDS))
                            .isEqualTo(Arrays.copyOfRange(image, offset, offset + 512));
                }
                assertThat(upstream.reads()).isEqualTo(1);
                assertThat(cache.stats().fetches()).isEqualTo(1);
            }
        }
    }

    @Test
    void concurrentRandomReadsAreCorrectAndFetchEachChunkAtMostOnce() throws Exception {
        int chunks = 256;
        Path file = TestImages.create(dir.resolve("image.raw"), (long) chunks * CHUNK, 4);
        byte[] image = Files.readAllBytes(file);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        try (FileBlockDevice source = FileBlockDevice.open(file, false)) {
            CountingBlockDevice upstream = new CountingBlockDevice(source);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (ChunkFetcher fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream), PATIENT);
                 ChunkCache cache = ChunkCache.open(dir.resolve("c"), manifest, fetcher,
                         ChunkCache.Options.defaults(registry));
                 ExecutorService pool = Executors.newFixedThreadPool(8)) {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    long seed = t;
                    results.add(pool.submit(() -> {
                        Random random = new Random(seed);
                        int bad = 0;
                        for (int i = 0; i < 400; i++) {
                            int length = 512 * (1 + random.nextInt(24));
                            int offset = 512 * random.nextInt((image.length - length) / 512 + 1);
                            ByteBuffer b = ByteBuffer.allocate(length);
                            cache.read(offset, b);
                            if (!Arrays.equals(b.array(), 0, length, image, offset, offset + length)) {
                                bad++;
                            }
                            if (i % 50 == 0) {
                                cache.prefetch(random.nextInt(chunks));
                            }
                        }
                        return bad;
                    }));
                }
                for (Future<Integer> r : results) {
                    assertThat(r.get(60, TimeUnit.SECONDS)).isZero();
                }
                cache.flush();
                // each chunk at most once (runs carry several chunks per upstream read)
                assertThat(upstream.bytes()).isEqualTo((long) cache.stats().presentChunks() * CHUNK)
                        .isLessThanOrEqualTo((long) chunks * CHUNK);
            }
        }
    }
}
