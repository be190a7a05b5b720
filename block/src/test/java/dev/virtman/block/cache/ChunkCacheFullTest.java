package dev.virtman.block.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache whose limit is smaller than what is read (issue 18, item 1): each chunk is fetched
 * about once per pass however large the reads, the chunks it holds stay (the hottest: read
 * first), no prefetch fetches chunks it would throw away, and the refetches are counted.
 */
class ChunkCacheFullTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 256;
    /** What the budget admits: a tenth of the image. */
    private static final int KEPT = 25;

    @TempDir
    Path dir;
    private byte[] image;
    private FileBlockDevice source;
    private CountingBlockDevice upstream;
    private SimpleMeterRegistry registry;
    private ChunkFetcher fetcher;
    private ChunkCache cache;

    @BeforeEach
    void setUp() throws IOException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) CHUNKS * CHUNK, 7);
        image = Files.readAllBytes(file);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        source = FileBlockDevice.open(file, false);
        upstream = new CountingBlockDevice(source);
        registry = new SimpleMeterRegistry();
        fetcher = new ChunkFetcher(manifest, CacheTestSupport.parents(registry, upstream), CacheTestSupport.STEADY);
        cache = ChunkCache.open(dir.resolve("cache"), manifest, fetcher,
                ChunkCache.Options.defaults(registry).withSpaceBudget(budget((long) KEPT * CHUNK)));
    }

    @AfterEach
    void tearDown() throws IOException {
        cache.close();
        fetcher.close();
        source.close();
    }

    @Test
    void largeReadsFetchEachChunkOncePerPass() throws IOException {
        for (int pass = 1; pass <= 2; pass++) {
            readWhole(16 * CHUNK);
            assertThat(upstream.bytes()).as("upstream bytes after pass %d of a %d-byte image", pass, image.length)
                    .isLessThanOrEqualTo((long) pass * image.length);
        }
        assertThat(cache.fetchedNotKept()).as("fetched but not kept").isGreaterThanOrEqualTo(CHUNKS - KEPT);
        assertThat(registry.get("virtman.cache.fetched.not.kept").functionCounter().count())
                .isEqualTo((double) cache.fetchedNotKept());
        assertThat(registry.get("virtman.cache.full").gauge().value()).isEqualTo(1.0);
    }

    @Test
    void theChunksReadFirstStayAndLaterOnesDoNotDisplaceThem() throws IOException {
        readWhole(CHUNK);
        long afterFirstPass = upstream.bytes();
        ByteBuffer dst = ByteBuffer.allocate(KEPT * CHUNK);
        cache.read(0, dst);
        assertThat(upstream.bytes()).as("the first %d chunks are served from the cache", KEPT).isEqualTo(afterFirstPass);
        assertThat(dst.array()).isEqualTo(java.util.Arrays.copyOf(image, KEPT * CHUNK));
    }

    @Test
    void aFullCachePrefetchesNothingItWouldThrowAway() throws Exception {
        readWhole(16 * CHUNK); // fills the budget and finds it full
        long before = upstream.bytes();
        PrefetchReport report = cache.prefetchInOrder(IntStream.range(KEPT, CHUNKS).boxed().toList());
        assertThat(upstream.bytes()).as("no upstream reads for chunks the cache cannot keep (%s)", report).isEqualTo(before);
    }

    private void readWhole(final int requestBytes) throws IOException {
        for (long offset = 0; offset < image.length; offset += requestBytes) {
            ByteBuffer dst = ByteBuffer.allocate(requestBytes);
            cache.read(offset, dst);
            assertThat(dst.array()).isEqualTo(java.util.Arrays.copyOfRange(image, (int) offset, (int) offset + requestBytes));
        }
    }

    /** A budget of {@code limit} bytes that, like an agent's for an exported image, evicts nothing. */
    private static SpaceBudget budget(final long limit) {
        return new SpaceBudget() {
            private long used;

            @Override
            public synchronized boolean tryReserve(final long bytes) {
                if (used + bytes > limit) {
                    return false;
                }
                used += bytes;
                return true;
            }

            @Override
            public synchronized void release(final long bytes) {
                used -= bytes;
            }
        };
    }
}
