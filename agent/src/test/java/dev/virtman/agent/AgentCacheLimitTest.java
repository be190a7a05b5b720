package dev.virtman.agent;

import dev.virtman.block.TestImages;
import dev.virtman.block.cache.CacheDirectory;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.block.manifest.ManifestFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's cache root keeps under {@link AgentConfig#cacheLimitBytes}: idle images go, exported ones stay. */
class AgentCacheLimitTest {
    private static final int CHUNK = 64 << 10;
    private static final int CHUNKS = 16;
    private static final long IMAGE_SIZE = (long) CHUNKS * CHUNK;
    /** Room for one and a half images. */
    private static final long LIMIT = IMAGE_SIZE * 3 / 2;
    private static final long COMMIT_WAIT_NANOS = 10_000_000_000L;

    @TempDir
    Path dir;

    private record Image(ImageConfig config, ChunkManifest manifest, Path file) {
    }

    @Test
    void anIdleImageFromAnEarlierRunIsEvictedForTheImageBeingRead() throws IOException {
        Image a = image("a", 1);
        Image b = image("b", 2);
        try (Agent first = start(List.of(a))) {
            assertThat(readAll(first.image("a"))).isEqualTo(Files.readAllBytes(a.file()));
        }
        assertThat(dir.resolve("cache").resolve(a.manifest().imageIdHex())).isDirectory();
        try (Agent second = start(List.of(b))) {
            assertThat(readAll(second.image("b"))).isEqualTo(Files.readAllBytes(b.file()));
            assertThat(second.cacheRoot().space().evictions()).isEqualTo(1);
            assertThat(second.cacheRoot().space().usedBytes()).isEqualTo(IMAGE_SIZE).isLessThanOrEqualTo(LIMIT);
            assertThat(committed(second.image("b"), CHUNKS)).isEqualTo(CHUNKS);
        }
        assertThat(dir.resolve("cache").resolve(a.manifest().imageIdHex())).doesNotExist();
        try (CacheDirectory root = CacheDirectory.open(dir.resolve("cache"), LIMIT)) {
            assertThat(root.images()).containsExactly(b.manifest().imageIdHex());
            assertThat(root.space().usedBytes()).as("usage rebuilt from the bitmaps").isEqualTo(IMAGE_SIZE);
        }
        try (Agent third = start(List.of(b))) {
            assertThat(third.image("b").presentAtOpen()).as("a restart finds the cache").isEqualTo(CHUNKS);
        }
    }

    @Test
    void anExportedImageIsNeverEvictedTheOtherIsServedUncachedBeyondTheLimit() throws IOException {
        Image a = image("a", 3);
        Image b = image("b", 4);
        try (Agent agent = start(List.of(a, b))) {
            assertThat(readAll(agent.image("a"))).isEqualTo(Files.readAllBytes(a.file()));
            assertThat(readAll(agent.image("b"))).isEqualTo(Files.readAllBytes(b.file()));
            assertThat(agent.cacheRoot().space().evictions()).isZero();
            assertThat(committed(agent.image("a"), CHUNKS)).isEqualTo(CHUNKS);
            assertThat(committed(agent.image("b"), CHUNKS / 2)).as("only what fits").isEqualTo(CHUNKS / 2);
            assertThat(agent.cacheRoot().space().usedBytes()).isLessThanOrEqualTo(LIMIT);
            assertThat(agent.registry().find(Agent.CACHE_USED_GAUGE).gauge().value()).isEqualTo((double) LIMIT);
        }
    }

    @Test
    void aCacheFromBeforeTheRootWasKeyedByImageIdIsAdopted() throws IOException {
        Image a = image("a", 5);
        try (Agent first = start(List.of(a))) {
            readAll(first.image("a"));
        }
        Path cache = dir.resolve("cache");
        Files.move(cache.resolve(a.manifest().imageIdHex()), cache.resolve("a"));
        try (Agent again = start(List.of(a))) {
            assertThat(again.image("a").presentAtOpen()).isEqualTo(CHUNKS);
        }
        assertThat(cache.resolve("a")).doesNotExist();
    }

    private Image image(final String name, final int seed) throws IOException {
        Path file = TestImages.create(dir.resolve(name + ".raw"), IMAGE_SIZE, seed);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        Path manifestFile = dir.resolve(name + ".manifest");
        ManifestFormat.write(manifest, manifestFile);
        return new Image(new ImageConfig(name, List.of(file.toUri().toString()), manifestFile), manifest, file);
    }

    private Agent start(final List<Image> images) throws IOException {
        AgentConfig config = new AgentConfig(images.stream().map(Image::config).toList(),
                new InetSocketAddress("127.0.0.1", 0), null, dir.resolve("cache"), 0, 0, null, null)
                .withCacheLimit(LIMIT);
        return Agent.start(config);
    }

    /** Present chunks once the cache's background committer has caught up (bounded wait). */
    private static int committed(final ImageExport export, final int expected) {
        long deadline = System.nanoTime() + COMMIT_WAIT_NANOS;
        while (export.stats().presentChunks() < expected && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        return export.stats().presentChunks();
    }

    private static byte[] readAll(final ImageExport export) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(IMAGE_SIZE));
        for (int i = 0; i < CHUNKS; i++) {
            export.cache().read((long) i * CHUNK, all.slice(i * CHUNK, CHUNK));
        }
        return all.array();
    }
}
