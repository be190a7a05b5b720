package dev.virtman.bench.block;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.block.TokenBucket;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ChunkFetcher;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.ParentSet;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.trace.BootTrace;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Replays a recorded boot trace through a cold {@link ChunkCache} once per chunk size (4 KiB to
 * 4 MiB) with the parent behind a modelled link, and reports time and traffic relative to 64 KiB.
 * Run by {@code bench/chunk-size}.
 *
 * <p>The image is synthetic but shaped like the traced one: as large as the trace's highest
 * offset (rounded up to 4 MiB), random data in every 4 MiB region the trace touches, zeros
 * (a hole) elsewhere; the manifest hashes the touched regions and uses the all-zero hash for
 * the rest, so it is exact without hashing gigabytes of holes.
 */
public final class ChunkSizeBench {
    private static final int KIB = 1024;
    private static final int MIB = KIB * KIB;
    private static final int REGION = 4 * MIB;
    private static final int[] CHUNK_SIZES = {4 * KIB, 16 * KIB, 32 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB};
    private static final int BASELINE = 64 * KIB;

    private ChunkSizeBench() {
    }

    /** A parent link: round trip per request and bytes per second. */
    record Link(String name, long roundTripMicros, long bytesPerSecond) { }

    public static void main(final String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ChunkSizeBench TRACE.csv [RTT_MICROS MBIT_PER_S]...");
            System.exit(2);
        }
        BootTrace trace = BootTrace.readCsv(Path.of(args[0]));
        List<Link> links = new ArrayList<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            long rtt = Long.parseLong(args[i]);
            long mbit = Long.parseLong(args[i + 1]);
            links.add(new Link(rtt + "us/" + mbit + "Mbit", rtt, mbit * 1_000_000 / Byte.SIZE));
        }
        if (links.isEmpty()) {
            links.add(new Link("LAN 200us/1Gbit", 200, 125_000_000));
            links.add(new Link("busy 1ms/200Mbit", 1000, 25_000_000));
        }
        Path work = Files.createTempDirectory("virtman-chunk-bench");
        try {
            run(trace, links, work);
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(final BootTrace trace, final List<Link> links, final Path work) throws Exception {
        long maxEnd = trace.reads().stream().mapToLong(BootTrace.Read::end).max().orElseThrow();
        long imageSize = (maxEnd + REGION - 1) / REGION * REGION;
        BitSet touched = new BitSet();
        for (BootTrace.Read r : trace.reads()) {
            touched.set((int) (r.offset() / REGION), (int) ((r.end() - 1) / REGION) + 1);
        }
        Path image = work.resolve("image.raw");
        writeImage(image, imageSize, touched);
        System.out.printf(Locale.ROOT, "trace: %d reads, %.2f MiB read, image %.0f MiB (%d of %d 4 MiB regions with data)%n",
                trace.reads().size(), (double) trace.totalBytes() / MIB, (double) imageSize / MIB,
                touched.cardinality(), imageSize / REGION);
        int linkNo = 0;
        for (Link link : links) {
            linkNo++;
            System.out.printf(Locale.ROOT, "%nlink %s (round trip %d us, %.0f MB/s); sequential replay, cold cache%n",
                    link.name(), link.roundTripMicros(), link.bytesPerSecond() / 1e6);
            System.out.printf(Locale.ROOT, "%-7s %8s %10s %10s %11s %9s %10s%n", "chunk", "fetches", "fetched",
                    "manifest", "replay", "vs 64K", "bitmap");
            double baseline = 0;
            List<String> lines = new ArrayList<>();
            double[] seconds = new double[CHUNK_SIZES.length];
            long[][] counts = new long[CHUNK_SIZES.length][];
            for (int i = 0; i < CHUNK_SIZES.length; i++) {
                int chunk = CHUNK_SIZES[i];
                ChunkManifest manifest = manifest(image, imageSize, chunk, touched);
                Result r = replay(trace, image, manifest, link, work.resolve("cache-" + linkNo + "-" + chunk));
                seconds[i] = r.seconds();
                counts[i] = new long[] {r.fetches(), r.bytesFetched(), manifest.encode().length,
                        (manifest.chunkCount() + 7) / 8};
                if (chunk == BASELINE) {
                    baseline = r.seconds();
                }
            }
            for (int i = 0; i < CHUNK_SIZES.length; i++) {
                lines.add(String.format(Locale.ROOT, "%-7s %8d %7.1f MiB %6.0f KiB %9.2f s %8.2fx %6.0f KiB",
                        label(CHUNK_SIZES[i]), counts[i][0], (double) counts[i][1] / MIB, counts[i][2] / 1024.0,
                        seconds[i], seconds[i] / baseline, counts[i][3] / 1024.0));
            }
            lines.forEach(System.out::println);
        }
    }

    private record Result(double seconds, long fetches, long bytesFetched) { }

    private static Result replay(final BootTrace trace, final Path image, final ChunkManifest manifest,
                                 final Link link, final Path cacheDir) throws IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FileBlockDevice file = FileBlockDevice.open(image, false)) {
            LinkModelBlockDevice parent = new LinkModelBlockDevice(file, link.roundTripMicros() * 1000,
                    new TokenBucket(link.bytesPerSecond(), 64 * KIB));
            ParentSet parents = new ParentSet(List.of(new ParentSet.Named("parent", parent)),
                    FetchPolicy.DEFAULT.parentCooldown(), registry);
            try (ChunkFetcher fetcher = new ChunkFetcher(manifest, parents, FetchPolicy.DEFAULT);
                 ChunkCache cache = ChunkCache.open(cacheDir, manifest, fetcher, ChunkCache.Options.defaults(registry))) {
                ByteBuffer buf = ByteBuffer.allocateDirect(MIB);
                long start = System.nanoTime();
                for (BootTrace.Read r : trace.reads()) {
                    long pos = r.offset();
                    long end = r.end();
                    while (pos < end) {
                        int n = (int) Math.min(buf.capacity(), end - pos);
                        buf.clear().limit(n);
                        cache.read(pos, buf);
                        pos += n;
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                cache.flush();
                return new Result(seconds, cache.stats().fetches(), (long) parents.parents().get(0).bytesFetched());
            }
        }
    }

    private static void writeImage(final Path image, final long size, final BitSet touched) throws IOException {
        SplittableRandom random = new SplittableRandom(1);
        byte[] region = new byte[REGION];
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int r = touched.nextSetBit(0); r >= 0; r = touched.nextSetBit(r + 1)) {
                random.nextBytes(region);
                ByteBuffer b = ByteBuffer.wrap(region);
                long pos = (long) r * REGION;
                while (b.hasRemaining()) {
                    pos += ch.write(b, pos);
                }
            }
            ch.write(ByteBuffer.allocate(1), size - 1);
        }
    }

    private static ChunkManifest manifest(final Path image, final long size, final int chunk, final BitSet touched)
            throws IOException {
        int count = (int) (size / chunk);
        byte[] hashes = new byte[count * ChunkManifest.HASH_LENGTH];
        byte[] zeroHash = ChunkManifest.newDigest().digest(new byte[chunk]);
        MessageDigest digest = ChunkManifest.newDigest();
        ByteBuffer buf = ByteBuffer.allocate(chunk);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            for (int i = 0; i < count; i++) {
                long offset = (long) i * chunk;
                if (touched.get((int) (offset / REGION))) {
                    buf.clear();
                    while (buf.hasRemaining()) {
                        ch.read(buf, offset + buf.position());
                    }
                    digest.update(buf.flip());
                    digest.digest(hashes, i * ChunkManifest.HASH_LENGTH, ChunkManifest.HASH_LENGTH);
                } else {
                    System.arraycopy(zeroHash, 0, hashes, i * ChunkManifest.HASH_LENGTH, ChunkManifest.HASH_LENGTH);
                }
            }
        } catch (java.security.DigestException e) {
            throw new IOException(e);
        }
        ChunkManifest m = ChunkManifest.of(size, chunk, hashes);
        return ManifestFormat.decode(m.encode());
    }

    private static String label(final int bytes) {
        return bytes >= MIB ? bytes / MIB + "M" : bytes / KIB + "K";
    }
}
