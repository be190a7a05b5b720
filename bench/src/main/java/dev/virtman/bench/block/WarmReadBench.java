package dev.virtman.bench.block;

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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Warm-cache read cost: random aligned reads from a fully cached, verified {@link ChunkCache}
 * against the same reads straight from a {@link FileBlockDevice} on the cache's own data file
 * (the baseline: what a cache with zero overhead would cost). Both run in the same process,
 * same threads, same offsets. Run by {@code bench/cache-warm-read}.
 */
public final class WarmReadBench {
    private static final int MIB = 1 << 20;
    private static final int IMAGE_MIB = 256;
    private static final int THREADS = 2;
    private static final long MEASURE_NANOS = 1_000_000_000L;
    private static final int ROUNDS = 3;
    private static final int[] READ_SIZES = {4096, 65536, 262144};

    private WarmReadBench() {
    }

    public static void main(final String[] args) throws Exception {
        Path work = Files.createTempDirectory("virtman-warm-bench");
        try {
            run(work);
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(final Path work) throws Exception {
        Path image = work.resolve("image.raw");
        SplittableRandom random = new SplittableRandom(3);
        byte[] block = new byte[MIB];
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < IMAGE_MIB; i++) {
                random.nextBytes(block);
                ch.write(ByteBuffer.wrap(block));
            }
        }
        ChunkManifest manifest = new ManifestBuilder(ChunkManifest.DEFAULT_CHUNK_SIZE, THREADS,
                ManifestBuilder.ProgressListener.NONE).build(image);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice source = FileBlockDevice.open(image, false);
             ChunkFetcher fetcher = new ChunkFetcher(manifest, new ParentSet(
                     List.of(new ParentSet.Named("source", source)), FetchPolicy.DEFAULT.parentCooldown(), registry),
                     FetchPolicy.DEFAULT);
             ChunkCache cache = ChunkCache.open(work.resolve("cache"), manifest, fetcher,
                     ChunkCache.Options.defaults(registry))) {
            ByteBuffer all = ByteBuffer.allocateDirect(MIB);
            for (long pos = 0; pos < manifest.imageSize(); pos += MIB) {
                all.clear();
                cache.read(pos, all);
            }
            cache.flush();
            try (FileBlockDevice raw = FileBlockDevice.open(work.resolve("cache").resolve("data"), false)) {
                System.out.printf(Locale.ROOT, "warm %d MiB image, 64 KiB chunks, %d threads, random aligned reads, "
                        + "best of %d alternating rounds of %.0f s%n", IMAGE_MIB, THREADS, ROUNDS, MEASURE_NANOS / 1e9);
                System.out.printf(Locale.ROOT, "%-8s %14s %14s %8s%n", "read", "file MiB/s", "cache MiB/s", "ratio");
                for (int size : READ_SIZES) {
                    measure(raw, size);             // JIT warm-up for both paths
                    measure(cache, size);
                    // Alternate and keep each side's best round: the host is shared, and the
                    // best round is the one least disturbed by other load.
                    double file = 0;
                    double cached = 0;
                    for (int round = 0; round < ROUNDS; round++) {
                        file = Math.max(file, measure(raw, size));
                        cached = Math.max(cached, measure(cache, size));
                    }
                    System.out.printf(Locale.ROOT, "%-8s %14.0f %14.0f %8.2f%n", size / 1024 + "K", file, cached,
                            cached / file);
                }
            }
        }
    }

    /** MiB/s of random reads of {@code size} bytes by {@link #THREADS} threads. */
    private static double measure(final BlockDevice device, final int size) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Long>> results = new ArrayList<>();
            long end = System.nanoTime() + MEASURE_NANOS;
            long start = System.nanoTime();
            for (int t = 0; t < THREADS; t++) {
                long seed = t;
                results.add(pool.submit(() -> readLoop(device, size, seed, end)));
            }
            long bytes = 0;
            for (Future<Long> f : results) {
                bytes += f.get();
            }
            return bytes / (double) MIB / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdown();
        }
    }

    private static long readLoop(final BlockDevice device, final int size, final long seed, final long end)
            throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer buf = ByteBuffer.allocateDirect(size);
        long slots = device.size() / size;
        long bytes = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 64; i++) {
                buf.clear();
                device.read(random.nextLong(slots) * size, buf);
                bytes += size;
            }
        }
        return bytes;
    }
}
