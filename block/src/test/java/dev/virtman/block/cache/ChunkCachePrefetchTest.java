package dev.virtman.block.cache;

import dev.virtman.testing.Await;
import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link ChunkCache#prefetchInOrder}: a boot profile several times longer than the prefetch
 * queue is fetched whole and in order, without dropping anything, while demand reads go on and
 * a close ends it promptly. Real cache over a real local file, a parent that can hold reads.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ChunkCachePrefetchTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 160;
    private static final int QUEUE = 8;
    /** Ten times the queue: a prefetch that drops what the queue cannot hold would lose most of it. */
    private static final int PROFILE_LENGTH = 10 * QUEUE;
    /** Chunks one in-order prefetch keeps queued or running with two threads. */
    private static final int WINDOW = 4;
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(20);

    @TempDir
    Path dir;
    private byte[] image;
    private ChunkManifest manifest;
    private FileBlockDevice source;
    private GatedDevice upstream;
    private SimpleMeterRegistry registry;
    private ChunkFetcher fetcher;
    private final List<ChunkCache> opened = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 11);
        image = Files.readAllBytes(file);
        manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        source = FileBlockDevice.open(file, false);
        upstream = new GatedDevice(source);
        registry = new SimpleMeterRegistry();
        fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream), CacheTestSupport.STEADY);
    }

    @AfterEach
    void tearDown() throws IOException {
        upstream.open();
        for (ChunkCache c : opened) {
            c.close();
        }
        fetcher.close();
        source.close();
    }

    private ChunkCache open(final int threads) throws IOException {
        ChunkCache c = ChunkCache.open(dir.resolve("cache"), manifest, fetcher,
                ChunkCache.Options.defaults(registry).withPrefetchThreads(threads).withPrefetchQueueLength(QUEUE));
        opened.add(c);
        return c;
    }

    /** A boot-like order: scattered, not ascending. */
    private static List<Integer> profile(final int length) {
        List<Integer> chunks = new ArrayList<>(IntStream.range(0, CHUNKS).boxed().toList());
        Collections.shuffle(chunks, new Random(5));
        return List.copyOf(chunks.subList(0, length));
    }

    @Test
    void aProfileThreeTimesTheQueueIsFetchedWholeAndInOrder() throws Exception {
        ChunkCache cache = open(1);
        List<Integer> profile = profile(PROFILE_LENGTH);

        PrefetchReport report = cache.prefetchInOrder(profile);

        assertThat(report).isEqualTo(new PrefetchReport(PROFILE_LENGTH, PROFILE_LENGTH, 0, 0));
        assertThat(report.finished()).isTrue();
        assertThat(upstream.chunksRead()).as("one prefetch thread fetches in profile order")
                .containsExactlyElementsOf(profile);
        cache.flush();
        for (int c = 0; c < CHUNKS; c++) {
            assertThat(cache.isPresent(c)).as("chunk %d", c).isEqualTo(profile.contains(c));
        }
        String tag = manifest.imageIdHex().substring(0, 16);
        assertThat(registry.get("virtman.cache.prefetches").tag("image", tag).functionCounter().count())
                .isEqualTo(PROFILE_LENGTH);
        assertThat(registry.get("virtman.cache.prefetches.dropped").tag("image", tag).functionCounter().count())
                .isZero();
        assertThat(registry.get("virtman.cache.prefetch.backlog").tag("image", tag).gauge().value()).isZero();
        assertThat(read(cache, profile.getLast())).as("served from the cache").isEqualTo(chunk(profile.getLast()));
        assertThat(upstream.chunksRead()).hasSize(PROFILE_LENGTH);
    }

    @Test
    void chunksAlreadyCachedAreSkippedAndTheRestFetchedOnceWithTwoThreads() throws Exception {
        ChunkCache cache = open(2);
        List<Integer> profile = profile(PROFILE_LENGTH);
        List<Integer> readFirst = profile.subList(10, 20);
        for (int c : readFirst) {
            read(cache, c);
        }

        PrefetchReport report = cache.prefetchInOrder(profile);

        assertThat(report.loaded()).isEqualTo(PROFILE_LENGTH - readFirst.size());
        assertThat(report.skipped()).isEqualTo(readFirst.size());
        assertThat(report.failed()).isZero();
        assertThat(cache.stats().fetches()).as("each profile chunk fetched once").isEqualTo(PROFILE_LENGTH);
        cache.flush();
        assertThat(profile).allMatch(cache::isPresent);
    }

    @Test
    void aDemandReadIsServedWhileTheFeederWaitsForQueueSpace() throws Exception {
        ChunkCache cache = open(2);
        List<Integer> profile = profile(PROFILE_LENGTH);
        int outside = IntStream.range(0, CHUNKS).filter(c -> !profile.contains(c)).findFirst().orElseThrow();
        upstream.hold(Set.copyOf(profile));
        CompletableFuture<PrefetchReport> feeder = feed(cache, profile);
        Await.until(() -> upstream.held() == 2, "both prefetch threads wait on the parent");
        String tag = manifest.imageIdHex().substring(0, 16);
        BooleanSupplier feederAtWindow = () -> registry.get("virtman.cache.prefetch.backlog").tag("image", tag)
                .gauge().value() == PROFILE_LENGTH - WINDOW - 1;
        Await.until(feederAtWindow, "the feeder queues its window and waits with the next chunk");
        Await.until(() -> Await.parkedIn("Prefetcher", "prefetchInOrder"), "the feeder waits for a slot");
        assertThat(feederAtWindow.getAsBoolean()).as("and goes no further").isTrue();

        assertThat(read(cache, outside)).isEqualTo(chunk(outside));
        assertThat(feeder).as("still waiting for the held prefetches").isNotDone();

        upstream.open();
        PrefetchReport report = feeder.get(WAIT_NANOS, TimeUnit.NANOSECONDS);
        assertThat(report.loaded()).isEqualTo(PROFILE_LENGTH);
        cache.flush();
        assertThat(profile).allMatch(cache::isPresent);
    }

    @Test
    void closingMidPrefetchReturnsPromptlyAndEndsTheFeeder() throws Exception {
        ChunkCache cache = open(2);
        List<Integer> profile = profile(PROFILE_LENGTH);
        upstream.hold(Set.copyOf(profile.subList(5, PROFILE_LENGTH)));
        CompletableFuture<PrefetchReport> feeder = feed(cache, profile);
        Await.until(() -> upstream.held() == 2, "both prefetch threads wait on the parent");

        long start = System.nanoTime();
        cache.close();
        PrefetchReport report = feeder.get(5, TimeUnit.SECONDS);
        assertThat(System.nanoTime() - start).as("close and the feeder's end")
                .isLessThan(TimeUnit.SECONDS.toNanos(5));

        assertThat(report.finished()).isFalse();
        assertThat(report.loaded()).isEqualTo(5);
        assertThat(report.abandoned()).isEqualTo(PROFILE_LENGTH - 5);
        Await.until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("cache-prefetch-" + manifest.imageIdHex().substring(0, 16))),
                "no prefetch thread outlives the cache");
        assertThat(cache.prefetchInOrder(profile).abandoned()).as("a closed cache takes nothing")
                .isEqualTo(PROFILE_LENGTH);
    }

    @Test
    void theNonBlockingPrefetchStillDropsWhatTheQueueCannotHoldAndCountsIt() throws Exception {
        ChunkCache cache = open(1);
        upstream.hold(Set.of(0));
        assertThat(cache.prefetch(0)).isTrue();
        Await.until(() -> upstream.held() == 1, "the prefetch thread waits on the parent");
        for (int c = 1; c <= QUEUE; c++) {
            assertThat(cache.prefetch(c)).as("queued %d", c).isTrue();
        }
        assertThat(cache.prefetch(QUEUE + 1)).as("queue full: dropped, the caller does not wait").isFalse();
        String tag = manifest.imageIdHex().substring(0, 16);
        assertThat(registry.get("virtman.cache.prefetches.dropped").tag("image", tag).functionCounter().count())
                .isEqualTo(1);
        upstream.open();
    }

    @Test
    void aChunkOutsideTheImageIsRejectedBeforeAnythingIsQueued() throws Exception {
        ChunkCache cache = open(1);
        assertThatThrownBy(() -> cache.prefetchInOrder(List.of(1, 2, CHUNKS)))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(cache.stats().prefetches()).isZero();
    }

    private static CompletableFuture<PrefetchReport> feed(final ChunkCache cache, final List<Integer> profile) {
        CompletableFuture<PrefetchReport> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("test-profile-feeder").start(() -> {
            try {
                result.complete(cache.prefetchInOrder(profile));
            } catch (InterruptedException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private byte[] read(final ChunkCache cache, final int chunk) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        cache.read((long) chunk * CHUNK, buf);
        return buf.array();
    }

    private byte[] chunk(final int c) {
        return Arrays.copyOfRange(image, c * CHUNK, (c + 1) * CHUNK);
    }


    /** A parent that records which chunk each read starts at and can hold reads of chosen chunks. */
    private static final class GatedDevice implements BlockDevice {
        private final BlockDevice next;
        private final List<Integer> chunksRead = new CopyOnWriteArrayList<>();
        private final AtomicInteger held = new AtomicInteger();
        private volatile Set<Integer> holding = Set.of();
        private volatile CountDownLatch gate = new CountDownLatch(0);

        GatedDevice(final BlockDevice next) {
            this.next = next;
        }

        void hold(final Set<Integer> chunks) {
            gate = new CountDownLatch(1);
            holding = chunks;
        }

        void open() {
            holding = Set.of();
            gate.countDown();
        }

        int held() {
            return held.get();
        }

        List<Integer> chunksRead() {
            return chunksRead;
        }

        @Override
        public long size() {
            return next.size();
        }

        @Override
        public void read(final long offset, final ByteBuffer dst) throws IOException {
            int chunk = (int) (offset / CHUNK);
            chunksRead.add(chunk);
            if (holding.contains(chunk)) {
                held.incrementAndGet();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                } finally {
                    held.decrementAndGet();
                }
            }
            next.read(offset, dst);
        }

        @Override
        public void close() {
        }
    }
}
