package dev.virtman.bench.storm;

import dev.virtman.trace.BootTrace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * The image a storm boots: as large as the traced disk, sparse, with random bytes in every
 * {@value #REGION_BYTES}-byte region a trace read touches and zeros elsewhere (the block layer's
 * chunk-size bench builds its image the same way). Random data defeats any accidental
 * compression or zero-detection along the path, so every verified byte really travelled.
 */
public final class StormImage {
    /** Granularity of the data regions: a multiple of every chunk size the manager accepts up to 4 MiB. */
    public static final int REGION_BYTES = 4 << 20;
    private static final long SEED = 0x5EEDL;

    private final Path path;
    private final long size;
    private final BitSet dataRegions;

    private StormImage(final Path path, final long size, final BitSet dataRegions) {
        this.path = path;
        this.size = size;
        this.dataRegions = dataRegions;
    }

    /**
     * Writes the image for {@code trace} at {@code path} (replacing it). {@code minSize} 0 means
     * "just large enough for the trace"; sizes are rounded up to whole regions.
     */
    public static StormImage create(final Path path, final BootTrace trace, final long minSize) throws IOException {
        long size = sizeFor(trace, minSize);
        BitSet regions = new BitSet();
        for (BootTrace.Read r : trace.reads()) {
            regions.set((int) (r.offset() / REGION_BYTES), (int) ((r.end() - 1) / REGION_BYTES) + 1);
        }
        Files.deleteIfExists(path);
        SplittableRandom random = new SplittableRandom(SEED);
        byte[] region = new byte[REGION_BYTES];
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int r = regions.nextSetBit(0); r >= 0; r = regions.nextSetBit(r + 1)) {
                random.nextBytes(region);
                ByteBuffer b = ByteBuffer.wrap(region);
                long pos = (long) r * REGION_BYTES;
                while (b.hasRemaining()) {
                    pos += ch.write(b, pos);
                }
            }
            // Extends the file to its full size without allocating the zero regions.
            ch.truncate(size);
            if (ch.size() < size) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return new StormImage(path, size, regions);
    }

    /** The size {@link #create} gives the image of {@code trace}. */
    public static long sizeFor(final BootTrace trace, final long minSize) {
        long end = trace.reads().stream().mapToLong(BootTrace.Read::end).max().orElse(REGION_BYTES);
        return roundUp(Math.max(end, minSize));
    }

    private static long roundUp(final long bytes) {
        return (bytes + REGION_BYTES - 1) / REGION_BYTES * REGION_BYTES;
    }

    public Path path() {
        return path;
    }

    public long size() {
        return size;
    }

    /** Whether region {@code index} holds data (false: all zeros). */
    public boolean hasData(final int index) {
        return dataRegions.get(index);
    }

    /** Bytes of random data written: what a full copy transfers that is not zeros. */
    public long dataBytes() {
        return (long) dataRegions.cardinality() * REGION_BYTES;
    }
}
