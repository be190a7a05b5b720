package dev.virtman.block.cache;

import dev.virtman.testing.Await;
import dev.virtman.block.FaultyBlockDevice;
import dev.virtman.block.FaultyBlockDevice.Fault;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** A bad parent (wrong data, short reads, errors, stalls) never gets its data to a reader. */
class ChunkFetcherTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 16;

    @TempDir
    Path dir;
    private byte[] image;
    private ChunkManifest manifest;
    private FileBlockDevice source;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<FaultyBlockDevice> faulty = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 9);
        image = Files.readAllBytes(file);
        manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        source = FileBlockDevice.open(file, false);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (FaultyBlockDevice f : faulty) {
            f.release();
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        source.close();
    }

    private FaultyBlockDevice device(final Fault fault) {
        FaultyBlockDevice d = new FaultyBlockDevice(source, fault);
        faulty.add(d);
        return d;
    }

    private ChunkFetcher fetcher(final FetchPolicy policy, final FaultyBlockDevice... devices) {
        ChunkFetcher f = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, devices), policy);
        closeables.add(f);
        return f;
    }

    private byte[] chunk(final int index) {
        return Arrays.copyOfRange(image, index * CHUNK, (index + 1) * CHUNK);
    }

    private static byte[] bytes(final ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void corruptShortAndFailingParentsAreSkippedForTheNextOne() throws IOException {
        for (Fault fault : List.of(Fault.CORRUPT, Fault.SHORT_READ, Fault.ERROR)) {
            FaultyBlockDevice bad = device(fault);
            FaultyBlockDevice good = device(Fault.NONE);
            ChunkFetcher f = fetcher(CacheTestSupport.QUICK, bad, good);
            assertThat(bytes(f.fetch(3))).as(fault.name()).isEqualTo(chunk(3));
            assertThat(bad.reads()).isEqualTo(1);
            assertThat(good.reads()).isEqualTo(1);
            ParentSet.FailureReason reason = switch (fault) {
                case CORRUPT -> ParentSet.FailureReason.MISMATCH;
                case SHORT_READ -> ParentSet.FailureReason.SHORT_READ;
                default -> ParentSet.FailureReason.ERROR;
            };
            assertThat(f.parents().parents().get(0).failures(reason)).isEqualTo(1);
            assertThat(f.parents().parents().get(1).bytesFetched()).isEqualTo(CHUNK);
            registry.clear();
        }
    }

    @Test
    void aRunIsOneUpstreamReadWithEveryChunkVerified() throws IOException {
        FaultyBlockDevice good = device(Fault.NONE);
        ChunkFetcher f = fetcher(CacheTestSupport.QUICK, good);
        List<ByteBuffer> run = f.fetchRun(2, 5);
        assertThat(run).hasSize(5);
        for (int i = 0; i < 5; i++) {
            assertThat(bytes(run.get(i))).as("chunk %d", 2 + i).isEqualTo(chunk(2 + i));
        }
        assertThat(good.reads()).as("one round trip for five chunks").isEqualTo(1);
        assertThat(f.parents().parents().get(0).bytesFetched()).isEqualTo(5 * CHUNK);
    }

    @Test
    void aRunWithACorruptChunkIsTakenWholeFromTheNextParent() throws IOException {
        FaultyBlockDevice bad = device(Fault.CORRUPT); // flips the first byte of each read: the run's first chunk
        FaultyBlockDevice good = device(Fault.NONE);
        ChunkFetcher f = fetcher(CacheTestSupport.QUICK, bad, good);
        List<ByteBuffer> run = f.fetchRun(4, 3);
        for (int i = 0; i < 3; i++) {
            assertThat(bytes(run.get(i))).as("chunk %d", 4 + i).isEqualTo(chunk(4 + i));
        }
        assertThat(bad.reads()).isEqualTo(1);
        assertThat(good.reads()).as("the run again, in one read").isEqualTo(1);
        assertThat(f.parents().parents().get(0).failures(ParentSet.FailureReason.MISMATCH)).isEqualTo(1);
        assertThat(f.parents().parents().get(0).bytesFetched()).as("nothing from the liar counts").isZero();
        assertThat(f.parents().parents().get(1).bytesFetched()).isEqualTo(3 * CHUNK);
    }

    @Test
    void aFailedRunFailsOverToTheNextParentInOneRead() throws IOException {
        for (Fault fault : List.of(Fault.ERROR, Fault.SHORT_READ)) {
            FaultyBlockDevice bad = device(fault);
            FaultyBlockDevice good = device(Fault.NONE);
            ChunkFetcher f = fetcher(CacheTestSupport.QUICK, bad, good);
            List<ByteBuffer> run = f.fetchRun(0, 4);
            for (int i = 0; i < 4; i++) {
                assertThat(bytes(run.get(i))).as("%s chunk %d", fault, i).isEqualTo(chunk(i));
            }
            assertThat(good.reads()).as(fault.name()).isEqualTo(1);
            registry.clear();
        }
        assertThatThrownBy(() -> fetcher(CacheTestSupport.QUICK, device(Fault.NONE)).fetchRun(CHUNKS - 1, 2))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void failedParentGoesToTheBackOfTheOrderForItsCooldown() throws IOException {
        FaultyBlockDevice bad = device(Fault.CORRUPT);
        FaultyBlockDevice good = device(Fault.NONE);
        ChunkFetcher f = fetcher(CacheTestSupport.QUICK.withRounds(1, Duration.ZERO), bad, good);
        f.fetch(0);
        f.fetch(1);
        f.fetch(2);
        assertThat(bad.reads()).as("one failure, then cooled down").isEqualTo(1);
        assertThat(good.reads()).isEqualTo(3);
    }

    @Test
    void stalledParentTimesOutAndTheNextParentServes() {
        FaultyBlockDevice stalled = device(Fault.STALL);
        FaultyBlockDevice good = device(Fault.NONE);
        ChunkFetcher f = fetcher(CacheTestSupport.QUICK.withAttemptTimeout(Duration.ofMillis(200)), stalled, good);
        byte[] got = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> bytes(f.fetch(5)));
        assertThat(got).isEqualTo(chunk(5));
        assertThat(f.parents().parents().get(0).failures(ParentSet.FailureReason.TIMEOUT)).isEqualTo(1);
    }

    @Test
    void whenEveryParentLiesTheReaderGetsAnErrorNotData() {
        FaultyBlockDevice a = device(Fault.CORRUPT);
        FaultyBlockDevice b = device(Fault.STALL);
        FetchPolicy policy = new FetchPolicy(Duration.ofMillis(100), 3, Duration.ofMillis(5), Duration.ofMillis(20),
                Duration.ofMillis(1), 2);
        ChunkFetcher f = fetcher(policy, a, b);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                assertThatThrownBy(() -> f.fetch(1)).isInstanceOf(ChunkFetchException.class)
                        .hasMessageContaining("p0=MISMATCH").hasMessageContaining("p1=TIMEOUT"));
        assertThat(a.reads()).isEqualTo(3);
        // The stalled parent holds at most maxOutstandingPerParent abandoned reads.
        assertThat(b.reads()).isEqualTo(2);
        assertThat(f.parents().parents().get(1).failures(ParentSet.FailureReason.OVERLOADED)).isEqualTo(1);
    }

    @Test
    void concurrentReadsInFlightAreNotMistakenForStalledOnes() throws Exception {
        FaultyBlockDevice slow = device(Fault.STALL);
        FetchPolicy policy = new FetchPolicy(Duration.ofSeconds(20), 1, Duration.ZERO, Duration.ZERO,
                Duration.ofMillis(1), 2);
        ChunkFetcher f = fetcher(policy, slow);
        int readers = 8;
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(readers)) {
            List<java.util.concurrent.Future<byte[]>> results = new ArrayList<>();
            for (int i = 0; i < readers; i++) {
                int index = i;
                results.add(pool.submit(() -> bytes(f.fetch(index))));
            }
            Await.until(() -> slow.reads() >= readers, Duration.ofSeconds(10), readers + " reads at the parent");
            slow.release();
            for (int i = 0; i < readers; i++) {
                assertThat(results.get(i).get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(chunk(i));
            }
        }
        assertThat(f.parents().parents().get(0).failures(ParentSet.FailureReason.OVERLOADED)).isZero();
    }

    @Test
    void aParentThatRecoversIsUsedInALaterRound() throws IOException {
        FaultyBlockDevice flaky = device(Fault.ERROR).healingAfter(1); // fails the first round only
        ChunkFetcher f = fetcher(CacheTestSupport.QUICK.withRounds(3, Duration.ofMillis(100)), flaky);
        assertThat(bytes(f.fetch(7))).isEqualTo(chunk(7));
        assertThat(flaky.reads()).isEqualTo(2);
    }
}
