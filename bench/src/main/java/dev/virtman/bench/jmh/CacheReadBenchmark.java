package dev.virtman.bench.jmh;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ChunkFetcher;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.ParentSet;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * A warm cache's read cost: random aligned reads from a fully cached, verified
 * {@link ChunkCache} ({@code device=cache}) against the same reads straight from a
 * {@link FileBlockDevice} on the cache's own data file ({@code device=file}, the baseline: a
 * cache with zero overhead). Same JVM settings, same offsets, two threads as two VMs reading;
 * compare the two rows of one size (ops/s × size = bytes/s). Was {@code WarmReadBench}'s
 * hand-timed loop; run by {@code bench/cache-warm-read}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@State(Scope.Benchmark)
public class CacheReadBenchmark {
    private static final int MIB = 1 << 20;
    /** Small enough to set up in a second per fork, far larger than the CPU caches. */
    private static final int IMAGE_MIB = 64;

    @Param({"4096", "65536", "262144"})
    public int size;

    @Param({"cache", "file"})
    public String device;

    private Path work;
    private FileBlockDevice source;
    private ChunkFetcher fetcher;
    private ChunkCache cache;
    private FileBlockDevice raw;
    private BlockDevice measured;

    /** One thread's buffer and offsets. */
    @State(Scope.Thread)
    public static class Reader {
        private final SplittableRandom random = new SplittableRandom(Thread.currentThread().threadId());
        private ByteBuffer buffer;

        @Setup(Level.Trial)
        public void allocate(final CacheReadBenchmark bench) {
            buffer = ByteBuffer.allocateDirect(bench.size);
        }
    }

    @Setup(Level.Trial)
    public void warmCache() throws IOException {
        work = Files.createTempDirectory("virtman-cache-read-bench");
        Path image = work.resolve("image.raw");
        SplittableRandom random = new SplittableRandom(3);
        byte[] block = new byte[MIB];
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < IMAGE_MIB; i++) {
                random.nextBytes(block);
                ch.write(ByteBuffer.wrap(block));
            }
        }
        ChunkManifest manifest = new ManifestBuilder(ChunkManifest.DEFAULT_CHUNK_SIZE, 2,
                ManifestBuilder.ProgressListener.NONE).build(image);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        source = FileBlockDevice.open(image, false);
        fetcher = new ChunkFetcher(manifest, new ParentSet(List.of(new ParentSet.Named("source", source)),
                FetchPolicy.DEFAULT.parentCooldown(), registry), FetchPolicy.DEFAULT);
        cache = ChunkCache.open(work.resolve("cache"), manifest, fetcher, ChunkCache.Options.defaults(registry));
        ByteBuffer all = ByteBuffer.allocateDirect(MIB);
        for (long pos = 0; pos < manifest.imageSize(); pos += MIB) {
            all.clear();
            cache.read(pos, all);
        }
        cache.flush();
        raw = FileBlockDevice.open(work.resolve("cache").resolve("data"), false);
        measured = switch (device) {
            case "cache" -> cache;
            case "file" -> raw;
            default -> throw new IllegalArgumentException("device: cache or file, not " + device);
        };
    }

    @Benchmark
    public ByteBuffer read(final Reader reader) throws IOException {
        ByteBuffer buffer = reader.buffer;
        buffer.clear();
        measured.read(reader.random.nextLong(measured.size() / size) * size, buffer);
        return buffer;
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        try (FileBlockDevice r = raw; ChunkCache c = cache; ChunkFetcher f = fetcher; FileBlockDevice s = source;
             Stream<Path> files = Files.walk(work)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
