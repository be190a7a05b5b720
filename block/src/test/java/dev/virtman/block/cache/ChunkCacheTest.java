package dev.virtman.block.cache;

import dev.virtman.testing.Await;
import dev.virtman.block.BlockDevice;
import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChunkCacheTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 64;

    @TempDir
    Path dir;
    private byte[] image;
    private ChunkManifest manifest;
    private FileBlockDevice source;
    private CountingBlockDevice upstream;
    private SimpleMeterRegistry registry;
    private ChunkFetcher fetcher;
    private final List<ChunkCache> opened = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 42);
        image = Files.readAllBytes(file);
        manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        source = FileBlockDevice.open(file, false);
        upstream = new CountingBlockDevice(source);
        registry = new SimpleMeterRegistry();
        fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream), CacheTestSupport.STEADY);
    }

    @AfterEach
    void tearDown() throws IOException {
        for (ChunkCache c : opened) {
            c.close();
        }
        fetcher.close();
        source.close();
    }

    private ChunkCache open() throws IOException {
        return open(ChunkCache.Options.defaults(registry));
    }

    private ChunkCache open(final ChunkCache.Options options) throws IOException {
        ChunkCache c = ChunkCache.open(dir.resolve("cache"), manifest, fetcher, options);
        opened.add(c);
        return c;
    }

    private byte[] read(final ChunkCache cache, final long offset, final int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        cache.read(offset, buf);
        assertThat(buf.hasRemaining()).isFalse();
        return buf.array();
    }

    @Test
    void aReadMissingSeveralChunksFetchesThemWithOneUpstreamRead() throws IOException {
        ChunkCache cache = open();
        assertThat(read(cache, CHUNK, 8 * CHUNK)).isEqualTo(Arrays.copyOfRange(image, CHUNK, 9 * CHUNK));
        assertThat(upstream.reads()).as("one run for eight missing chunks").isEqualTo(1);
        assertThat(upstream.bytes()).isEqualTo(8L * CHUNK);
        assertThat(cache.stats().fetches()).isEqualTo(8);
        // a read over cached, missing and cached chunks fetches only the missing run between them
        assertThat(read(cache, 0, 12 * CHUNK)).isEqualTo(Arrays.copyOfRange(image, 0, 12 * CHUNK));
        assertThat(upstream.reads()).as("chunk 0, then the run 9..11").isEqualTo(3);
        assertThat(upstream.bytes()).isEqualTo(12L * CHUNK);
        cache.flush();
        for (int i = 0; i < 12; i++) {
            assertThat(cache.isPresent(i)).as("chunk %d committed", i).isTrue();
        }
    }

    @Test
    void aRunIsCappedAndStopsAtChunksAlreadyInFlightOrPresent() throws IOException {
        ChunkCache cache = open();
        read(cache, 20L * CHUNK, CHUNK);
        int maxRun = ChunkCache.MAX_RUN_BYTES / CHUNK;
        assertThat(read(cache, 0, CHUNKS * CHUNK)).isEqualTo(image);
        // 0..19 (capped at maxRun chunks per run), skip 20, then 21..63
        int expected = 1 + (20 + maxRun - 1) / maxRun + (CHUNKS - 21 + maxRun - 1) / maxRun;
        assertThat(upstream.reads()).isEqualTo(expected);
        assertThat(upstream.bytes()).as("no chunk twice").isEqualTo((long) CHUNKS * CHUNK);
    }

    @Test
    void aFailedRunLoadsEachChunkAloneSoOnlyTheBadChunkFails() throws IOException {
        VerifiedChunkSource runsFail = new VerifiedChunkSource() {
            @Override
            public ByteBuffer fetch(final int index) throws IOException {
                if (index == 5) {
                    throw new ChunkFetchException(index, "no parent has it");
                }
                return fetcher.fetch(index);
            }

            @Override
            public List<ByteBuffer> fetchRun(final int first, final int count) throws IOException {
                throw new IOException("run refused");
            }
        };
        ChunkCache cache = ChunkCache.open(dir.resolve("cache-runs-fail"), manifest, runsFail,
                ChunkCache.Options.defaults(registry));
        opened.add(cache);
        assertThatThrownBy(() -> read(cache, 3L * CHUNK, 4 * CHUNK)).isInstanceOf(IOException.class)
                .hasMessageContaining("5");
        assertThat(read(cache, 3L * CHUNK, 2 * CHUNK)).as("chunks 3 and 4 of the failed run are fine")
                .isEqualTo(Arrays.copyOfRange(image, 3 * CHUNK, 5 * CHUNK));
        assertThat(read(cache, 6L * CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(image, 6 * CHUNK, 7 * CHUNK));
    }

    @Test
    void randomReadsMatchTheSourceAndEachChunkIsFetchedOnce() throws IOException {
        ChunkCache cache = open();
        Random random = new Random(7);
        for (int i = 0; i < 300; i++) {
            int length = 512 * (1 + random.nextInt(3 * CHUNK / 512));
            long offset = 512L * random.nextInt((image.length - length) / 512 + 1);
            assertThat(read(cache, offset, length))
                    .as("read %d+%d", offset, length)
                    .isEqualTo(Arrays.copyOfRange(image, (int) offset, (int) offset + length));
        }
        // runs fetch several chunks per upstream read: count bytes, not reads
        assertThat(upstream.bytes()).isEqualTo(cache.stats().fetches() * CHUNK).isLessThanOrEqualTo((long) CHUNKS * CHUNK);
        assertThat(read(cache, 0, image.length)).isEqualTo(image);
        assertThat(upstream.bytes()).isEqualTo((long) CHUNKS * CHUNK);
        assertThat(cache.stats().bytesServed()).isGreaterThan(image.length);
    }

    @Test
    void restartKeepsPresentChunksAndDoesNotFetchThemAgain() throws IOException {
        ChunkCache cache = open();
        read(cache, 0, CHUNK * 10);
        cache.flush();
        assertThat(cache.stats().presentChunks()).isEqualTo(10);
        cache.close();
        opened.clear();
        int before = upstream.reads();

        ChunkCache again = open();
        assertThat(again.stats().presentChunks()).isEqualTo(10);
        assertThat(read(again, 0, CHUNK * 10)).isEqualTo(Arrays.copyOf(image, CHUNK * 10));
        assertThat(upstream.reads()).isEqualTo(before);
        assertThat(again.stats().repairs()).isZero();
    }

    @Test
    void corruptedCacheFileIsDetectedAndRepairedOnRead() throws IOException {
        ChunkCache cache = open();
        read(cache, 0, image.length);
        cache.close();
        opened.clear();
        Path data = dir.resolve("cache").resolve(ChunkCache.DATA_FILE);
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 5L * CHUNK + 100);
        }
        int before = upstream.reads();

        ChunkCache again = open();
        assertThat(read(again, 0, image.length)).isEqualTo(image);
        assertThat(again.stats().repairs()).isEqualTo(1);
        assertThat(upstream.reads() - before).as("only the bad chunk is fetched again").isEqualTo(1);
        again.flush();
        again.close();
        opened.clear();
        ChunkCache third = open();
        assertThat(read(third, 5L * CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(image, 5 * CHUNK, 6 * CHUNK));
        assertThat(third.stats().repairs()).as("the repair was durable").isZero();
    }

    @Test
    void scrubFindsRotAfterTheFirstVerifiedRead() throws IOException {
        ChunkCache cache = open();
        read(cache, 0, image.length);
        cache.flush();
        Path data = dir.resolve("cache").resolve(ChunkCache.DATA_FILE);
        try (FileChannel ch = FileChannel.open(data, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF}), 7L * CHUNK + 9);
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF}), 40L * CHUNK);
        }
        int before = upstream.reads();
        assertThat(cache.scrub()).isEqualTo(2);
        assertThat(upstream.reads() - before).isEqualTo(2);
        assertThat(read(cache, 0, image.length)).isEqualTo(image);
        assertThat(cache.scrub()).isZero();
    }

    @Test
    void bitmapOfAnotherImageOrWrongSizedDataStartsEmpty() throws IOException {
        ChunkCache cache = open();
        read(cache, 0, CHUNK * 4);
        cache.close();
        opened.clear();
        try (FileChannel ch = FileChannel.open(dir.resolve("cache").resolve(ChunkCache.DATA_FILE),
                StandardOpenOption.WRITE)) {
            ch.truncate(CHUNK);
        }
        ChunkCache again = open();
        assertThat(again.stats().presentChunks()).isZero();
        assertThat(read(again, 0, CHUNK * 4)).isEqualTo(Arrays.copyOf(image, CHUNK * 4));
    }

    @Test
    void anInterruptedReaderDoesNotBreakTheCacheForOthers() throws Exception {
        ChunkCache cache = open();
        read(cache, 0, image.length);
        cache.flush();
        int before = upstream.reads();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread victim = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                cache.read(0, ByteBuffer.allocate(CHUNK));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        victim.start();
        victim.join(10_000);
        // A FileChannel read by an interrupted thread closes the channel for everyone.
        assertThat(failure.get()).isInstanceOf(java.io.InterruptedIOException.class);
        assertThat(read(cache, 0, image.length)).isEqualTo(image);
        assertThat(upstream.reads()).isEqualTo(before);
        read(cache, 0, CHUNK);
    }

    @Test
    void accessListenerSeesEveryChunkOfEveryRead() throws IOException {
        List<Integer> seen = new CopyOnWriteArrayList<>();
        ChunkCache cache = open(ChunkCache.Options.defaults(registry).withAccessListener((i, t) -> seen.add(i)));
        read(cache, CHUNK - 512, 1024);
        read(cache, 3L * CHUNK, 3 * CHUNK);
        read(cache, 0, 3 * CHUNK);
        assertThat(seen).containsExactly(0, 1, 3, 4, 5, 0, 1, 2);
    }

    @Test
    void prefetchFillsInTheBackground() throws Exception {
        ChunkCache cache = open();
        assertThat(cache.prefetch(9)).isTrue();
        Await.until(() -> cache.isPresent(9), "chunk 9 prefetched and committed");
        assertThat(cache.prefetch(9)).as("already present").isFalse();
        int before = upstream.reads();
        assertThat(read(cache, 9L * CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(image, 9 * CHUNK, 10 * CHUNK));
        assertThat(upstream.reads()).isEqualTo(before);
    }

    @Test
    void readsOutsideTheImageAreRejected() throws IOException {
        ChunkCache cache = open();
        assertThatThrownBy(() -> cache.read(image.length - 512, ByteBuffer.allocate(1024)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cache.read(-512, ByteBuffer.allocate(512)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(upstream.reads()).isZero();
        assertThat(cache.isWritable()).isFalse();
        assertThatThrownBy(() -> cache.write(0, ByteBuffer.allocate(512)))
                .isInstanceOf(dev.virtman.block.ReadOnlyDeviceException.class);
    }

    @Test
    void prometheusScrapeNamesTheCacheAndParentMeters() throws IOException {
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry prometheus =
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        fetcher.close();
        fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(prometheus, upstream), CacheTestSupport.STEADY);
        ChunkCache cache = open(ChunkCache.Options.defaults(prometheus));
        read(cache, 0, 2 * CHUNK);
        cache.flush();
        String tag = "image=\"" + manifest.imageIdHex().substring(0, 16) + "\"";
        assertThat(prometheus.scrape())
                .contains("virtman_cache_chunks_present{" + tag + "} 2.0")
                .contains("virtman_cache_misses_total{" + tag + "} 2.0")
                .contains("virtman_cache_served_bytes_total{" + tag + "} " + (2.0 * CHUNK))
                .contains("virtman_parent_fetch_bytes_total{parent=\"p0\"} " + (2.0 * CHUNK))
                .contains("virtman_parent_fetch_failures_total{parent=\"p0\",reason=\"timeout\"} 0.0")
                .contains("virtman_parent_fetch_latency_seconds_count{parent=\"p0\"} 1"); // one run for both chunks
    }

    @Test
    void metricsAreExported() throws IOException {
        ChunkCache cache = open();
        read(cache, 0, 2 * CHUNK);
        cache.flush();
        read(cache, 0, 2 * CHUNK);
        String tag = manifest.imageIdHex().substring(0, 16);
        assertThat(registry.get("virtman.cache.hits").tag("image", tag).functionCounter().count()).isEqualTo(2);
        assertThat(registry.get("virtman.cache.misses").tag("image", tag).functionCounter().count()).isEqualTo(2);
        assertThat(registry.get("virtman.cache.chunks.present").gauge().value()).isEqualTo(2);
        assertThat(registry.get("virtman.parent.fetch.bytes").tag("parent", "p0").counter().count())
                .isEqualTo(2 * CHUNK);
        // the two missing chunks came as one run: one round trip
        assertThat(registry.get("virtman.parent.fetch.latency").tag("parent", "p0").timer().count()).isEqualTo(1);
    }

    @Test
    void aDemandReadThatJoinedAFailedPrefetchLoadsTheChunkItself() throws Exception {
        // The parent's first read (the prefetch's only attempt) stalls until the demand read has
        // joined it, then fails; every later read succeeds.
        CountDownLatch prefetchReading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger reads = new AtomicInteger();
        BlockDevice failsFirst = new BlockDevice() {
            @Override
            public long size() {
                return upstream.size();
            }

            @Override
            public void read(final long offset, final ByteBuffer dst) throws IOException {
                if (reads.getAndIncrement() == 0) {
                    prefetchReading.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new IOException("parent dropped the connection");
                }
                upstream.read(offset, dst);
            }

            @Override
            public void close() {
            }
        };
        fetcher.close();
        fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, failsFirst),
                CacheTestSupport.STEADY.withRounds(1, java.time.Duration.ofMillis(10)));
        ChunkCache cache = open();

        assertThat(cache.prefetch(5)).isTrue();
        assertThat(prefetchReading.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<byte[]> demand = CompletableFuture.supplyAsync(() -> {
            try {
                return read(cache, 5L * CHUNK, CHUNK);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Await.until(() -> Await.parkedIn("ChunkLoader", "await"), "the demand read joins the prefetch in flight");
        release.countDown();

        assertThat(demand.get(10, TimeUnit.SECONDS)).isEqualTo(Arrays.copyOfRange(image, 5 * CHUNK, 6 * CHUNK));
        assertThat(reads.get()).as("the failed prefetch read, then the demand read's own").isEqualTo(2);
    }
}
