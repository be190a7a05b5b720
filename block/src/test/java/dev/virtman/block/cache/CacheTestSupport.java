package dev.virtman.block.cache;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Shared set-up for the cache tests: parents named p0, p1, ... and a quick fetch policy. */
final class CacheTestSupport {
    /** Short enough to keep stall tests fast, long enough for a loaded CI machine. */
    static final FetchPolicy QUICK = new FetchPolicy(Duration.ofMillis(500), 2, Duration.ofMillis(10),
            Duration.ofMillis(50), Duration.ofMillis(100), 8);
    /**
     * For tests that count upstream bytes exactly and never stall a parent: a 500 ms attempt
     * timeout fires on a CPU-starved machine (load 40), the retry fetches a chunk twice, and the
     * count is off by one chunk for a reason the test is not about.
     */
    static final FetchPolicy STEADY = QUICK.withAttemptTimeout(Duration.ofSeconds(30));

    private CacheTestSupport() {
    }

    static ParentSet parents(final MeterRegistry registry, final BlockDevice... devices) {
        List<ParentSet.Named> named = new ArrayList<>();
        for (int i = 0; i < devices.length; i++) {
            named.add(new ParentSet.Named("p" + i, devices[i]));
        }
        return new ParentSet(named, QUICK.parentCooldown(), registry);
    }

    /**
     * A cold cache in {@code dir/cache} of a random image of {@code chunks} chunks of
     * {@code chunkSize} bytes ({@code dir/image.raw}, {@code seed}), fetching from that file.
     */
    static SmallCache smallCache(final Path dir, final int chunkSize, final int chunks, final long seed)
            throws IOException {
        Path file = TestImages.create(dir.resolve("image.raw"), (long) chunks * chunkSize, seed);
        ChunkManifest manifest = new ManifestBuilder(chunkSize, 1, ManifestBuilder.ProgressListener.NONE).build(file);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        FileBlockDevice source = FileBlockDevice.open(file, false);
        ChunkFetcher fetcher = null;
        try {
            fetcher = new ChunkFetcher(manifest, parents(registry, source), STEADY);
            return new SmallCache(source, fetcher, ChunkCache.open(dir.resolve("cache"), manifest, fetcher,
                    ChunkCache.Options.defaults(registry)));
        } catch (IOException | RuntimeException e) {
            if (fetcher != null) {
                fetcher.close();
            }
            source.close();
            throw e;
        }
    }

    /** A cache with its parent file; closing it closes all three. */
    record SmallCache(FileBlockDevice source, ChunkFetcher fetcher, ChunkCache cache) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try (FileBlockDevice s = source; ChunkFetcher f = fetcher; ChunkCache c = cache) {
                // closed in reverse order: the cache, its fetcher, the parent
            }
        }
    }
}
