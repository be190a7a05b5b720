package dev.virtman.bench.block;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.cache.CacheDirectory;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ChunkFetcher;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.ParentSet;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * An agent's cache under a limit smaller than what is read: the agent's own cache stack
 * ({@link CacheDirectory} with {@code --cache-limit}, {@link ChunkCache}, {@link ChunkFetcher})
 * over a file parent that counts what it serves. Two workloads, each with the limit at 10 %, 50 %
 * and 100 % of the distinct chunk bytes it reads, in one run: a whole-image read in 1 MiB requests
 * (what {@code virtman iscsi-read} does) and a replay of a recorded boot trace (its reads in order,
 * without think time). Prints upstream bytes / bytes read and the time. Run by {@code bench/cache-limit}.
 */
public final class CacheLimitBench {
    private static final int CHUNK = 64 << 10;
    private static final int MIB = 1 << 20;
    private static final int[] PERCENTS = {10, 50, 100};

    private record Read(long offset, int length) { }

    private CacheLimitBench() {
    }

    public static void main(final String[] args) throws Exception {
        Path trace = Path.of(args.length > 0 ? args[0] : "bench/traces/debian12-boot.csv");
        int wholeMiB = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        Path work = Files.createTempDirectory("cache-limit-bench");
        try {
            List<Read> traceReads = readTrace(trace);
            long traceSize = traceReads.stream().mapToLong(r -> r.offset() + r.length()).max().orElseThrow();
            traceSize = (traceSize + CHUNK - 1) / CHUNK * CHUNK;
            Path traceImage = image(work.resolve("trace.raw"), traceSize, touchedChunks(traceReads));
            Path wholeImage = image(work.resolve("whole.raw"), (long) wholeMiB * MIB, null);
            List<Read> wholeReads = new ArrayList<>();
            for (long off = 0; off < (long) wholeMiB * MIB; off += MIB) {
                wholeReads.add(new Read(off, MIB));
            }
            System.out.printf("%-22s %6s %10s %12s %14s %9s %8s %8s%n", "workload", "limit", "limit MiB",
                    "read MiB", "upstream MiB", "up/read", "fetches", "time s");
            ChunkManifest wholeManifest = manifest(wholeImage);
            for (int pct : PERCENTS) {
                run("whole image, 1 MiB reads", wholeImage, wholeManifest, wholeReads, pct, work);
            }
            ChunkManifest traceManifest = manifest(traceImage);
            for (int pct : PERCENTS) {
                run("boot trace replay", traceImage, traceManifest, traceReads, pct, work);
            }
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static ChunkManifest manifest(final Path image) throws IOException {
        return new ManifestBuilder(CHUNK, Runtime.getRuntime().availableProcessors(),
                ManifestBuilder.ProgressListener.NONE).build(image);
    }

    private static void run(final String name, final Path image, final ChunkManifest manifest, final List<Read> reads,
                            final int pct, final Path work) throws IOException {
        long distinct = touchedChunks(reads).size() * (long) CHUNK;
        long limit = Math.max(CHUNK, distinct * pct / 100);
        long requested = reads.stream().mapToLong(Read::length).sum();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Path root = work.resolve("cache-" + image.getFileName() + "-" + pct);
        try (FileBlockDevice file = FileBlockDevice.open(image, false);
             CacheDirectory dir = CacheDirectory.open(root, limit)) {
            CountingBlockDevice upstream = new CountingBlockDevice(file);
            ParentSet parents = new ParentSet(List.of(new ParentSet.Named("file", upstream)), Duration.ofSeconds(1), registry);
            try (ChunkFetcher fetcher = new ChunkFetcher(manifest, parents, FetchPolicy.DEFAULT);
                 CacheDirectory.Lease lease = dir.open(manifest, fetcher, ChunkCache.Options.defaults(registry))) {
                ChunkCache cache = lease.cache();
                long start = System.nanoTime();
                for (Read r : reads) {
                    cache.read(r.offset(), ByteBuffer.allocate(r.length()));
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("%-22s %5d%% %10.1f %12.1f %14.1f %9.2f %8d %8.2f%n", name, pct, limit / (double) MIB,
                        requested / (double) MIB, upstream.bytes() / (double) MIB, upstream.bytes() / (double) requested,
                        cache.stats().fetches(), seconds);
            }
        }
    }

    private static List<Read> readTrace(final Path trace) throws IOException {
        List<Read> reads = new ArrayList<>();
        for (String line : Files.readAllLines(trace)) {
            if (line.isBlank() || !Character.isDigit(line.charAt(0))) {
                continue;
            }
            String[] f = line.split(",");
            reads.add(new Read(Long.parseLong(f[1]), Integer.parseInt(f[2])));
        }
        return reads;
    }

    private static TreeSet<Long> touchedChunks(final List<Read> reads) {
        TreeSet<Long> chunks = new TreeSet<>();
        for (Read r : reads) {
            for (long c = r.offset() / CHUNK; c <= (r.offset() + r.length() - 1) / CHUNK; c++) {
                chunks.add(c);
            }
        }
        return chunks;
    }

    /** A sparse image of {@code size} bytes, random data in {@code chunks} (every chunk when null). */
    private static Path image(final Path file, final long size, final TreeSet<Long> chunks) throws IOException {
        Random random = new Random(18);
        byte[] buf = new byte[CHUNK];
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
            for (long c = 0; c < size / CHUNK; c++) {
                if (chunks == null || chunks.contains(c)) {
                    random.nextBytes(buf);
                    raf.seek(c * CHUNK);
                    raf.write(buf);
                }
            }
        }
        return file;
    }
}
