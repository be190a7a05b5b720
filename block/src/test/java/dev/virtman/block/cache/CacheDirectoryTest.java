package dev.virtman.block.cache;

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
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The host limit holds, idle images go least recently used first, images in use are never evicted. */
class CacheDirectoryTest {
    private static final int CHUNK = 4096;
    private static final int CHUNKS = 64;
    private static final long IMAGE_BYTES = (long) CHUNK * CHUNKS;

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    private record Image(byte[] bytes, ChunkManifest manifest, ChunkFetcher fetcher) { }

    private Image image(final int seed) throws IOException {
        Path file = TestImages.create(dir.resolve("img" + seed), IMAGE_BYTES, seed);
        ChunkManifest m = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        FileBlockDevice dev = FileBlockDevice.open(file, false);
        closeables.add(dev);
        ChunkFetcher f = new ChunkFetcher(m, CacheTestSupport.parents(new SimpleMeterRegistry(), dev),
                CacheTestSupport.QUICK);
        closeables.add(f);
        return new Image(Files.readAllBytes(file), m, f);
    }

    private CacheDirectory.Lease open(final CacheDirectory cd, final Image img) throws IOException {
        CacheDirectory.Lease lease = cd.open(img.manifest(), img.fetcher(), ChunkCache.Options.defaults(registry));
        closeables.add(lease);
        return lease;
    }

    private static void readAll(final CacheDirectory.Lease lease, final Image img) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(img.bytes().length);
        lease.cache().read(0, all);
        assertThat(all.array()).isEqualTo(img.bytes());
        lease.cache().flush();
    }

    @BeforeEach
    void setUp() {
        closeables.clear();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @Test
    void evictsTheIdleImageNotTheOneInUse() throws IOException {
        Image a = image(1);
        Image b = image(2);
        Image c = image(3);
        CacheDirectory cd = CacheDirectory.open(dir.resolve("cache"), IMAGE_BYTES * 5 / 2);
        closeables.add(cd);
        CacheDirectory.Lease la = open(cd, a);
        readAll(la, a);
        la.close();
        CacheDirectory.Lease lb = open(cd, b);
        readAll(lb, b);

        CacheDirectory.Lease lc = open(cd, c);
        readAll(lc, c);
        assertThat(lc.cache().stats().presentChunks()).isEqualTo(CHUNKS);
        assertThat(cd.images()).containsExactlyInAnyOrder(b.manifest().imageIdHex(), c.manifest().imageIdHex());
        assertThat(cd.space().usedBytes()).isEqualTo(2 * IMAGE_BYTES).isLessThanOrEqualTo(cd.space().limitBytes());
        assertThat(cd.space().evictions()).isEqualTo(1);

        // Both remaining images are in use: a fourth is served correctly but only what fits is kept.
        Image d = image(4);
        CacheDirectory.Lease ld = open(cd, d);
        readAll(ld, d);
        assertThat(ld.cache().stats().presentChunks()).isEqualTo(CHUNKS / 2);
        assertThat(cd.space().usedBytes()).isLessThanOrEqualTo(cd.space().limitBytes());
        assertThat(lb.cache().stats().presentChunks()).isEqualTo(CHUNKS);
        assertThat(lc.cache().stats().presentChunks()).isEqualTo(CHUNKS);
    }

    @Test
    void leastRecentlyUsedIdleImageGoesFirstAcrossARestart() throws IOException {
        Image a = image(1);
        Image b = image(2);
        Image c = image(3);
        Path root = dir.resolve("cache");
        try (CacheDirectory cd = CacheDirectory.open(root, 10 * IMAGE_BYTES)) {
            for (Image img : List.of(a, b)) {
                try (CacheDirectory.Lease l = cd.open(img.manifest(), img.fetcher(), ChunkCache.Options.defaults(registry))) {
                    readAll(l, img);
                }
            }
        }
        // b was used long ago, a recently.
        Files.setLastModifiedTime(root.resolve(b.manifest().imageIdHex()).resolve(CacheDirectory.LAST_USE_FILE),
                FileTime.fromMillis(System.currentTimeMillis() - 86_400_000L));

        try (CacheDirectory cd = CacheDirectory.open(root, IMAGE_BYTES * 5 / 2)) {
            assertThat(cd.space().usedBytes()).as("usage rebuilt from the bitmaps").isEqualTo(2 * IMAGE_BYTES);
            try (CacheDirectory.Lease lc = cd.open(c.manifest(), c.fetcher(), ChunkCache.Options.defaults(registry))) {
                readAll(lc, c);
            }
            assertThat(cd.images()).containsExactlyInAnyOrder(a.manifest().imageIdHex(), c.manifest().imageIdHex());
        }
    }

    @Test
    void leasesOfOneImageShareOneCacheAndScanDropsBrokenDirectories() throws IOException {
        Image a = image(1);
        Path root = dir.resolve("cache");
        Path junk = Files.createDirectories(root.resolve("ab".repeat(32)));
        Files.writeString(junk.resolve(ChunkCache.MANIFEST_FILE), "not a manifest");
        Files.createDirectories(root.resolve("unrelated"));
        try (CacheDirectory cd = CacheDirectory.open(root, 10 * IMAGE_BYTES)) {
            assertThat(Files.exists(junk)).isFalse();
            assertThat(Files.exists(root.resolve("unrelated"))).as("not ours, left alone").isTrue();
            CacheDirectory.Lease one = open(cd, a);
            CacheDirectory.Lease two = open(cd, a);
            assertThat(two.cache()).isSameAs(one.cache());
            one.close();
            readAll(two, a);
            two.close();
        }
    }
}
