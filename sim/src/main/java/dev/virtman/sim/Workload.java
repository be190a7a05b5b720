package dev.virtman.sim;

import dev.virtman.trace.BootTrace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A boot trace compiled for the simulation: for each read, its (scaled) start time and the
 * image chunks it touches in the order a VM touches them. Chunks get dense ids in first-touch
 * order, so per-host state is a small array over the working set, not over the whole image
 * (a 15 GB image has 230,000 chunks of 64 KiB; a boot touches a few thousand).
 *
 * <p>Reads are cut into {@value #PIECE_BYTES}-byte pieces as the emulated VM issues them
 * ({@code dev.virtman.bench.storm.EmulatedVm}); a piece that spans two chunks touches both. Each
 * piece is one SCSI READ, and the agent's cache fetches the missing chunks from a miss to the end
 * of the READ with one upstream request ({@code ChunkCache} runs), so the workload also records
 * where each piece ends ({@link #pieceEnd}).
 */
public final class Workload {
    /** The emulated VM's largest single read (EmulatedVm.COMPARE_BYTES). */
    static final int PIECE_BYTES = 64 << 10;

    private final String name;
    private final int chunkSize;
    private final double[] readTimes;
    private final int[][] readChunks;
    private final int[][] pieceEnds;
    private final long[] readBytes;
    private final long[] chunkIndex;
    private final long traceBytes;
    private final long distinctBytes;

    private Workload(final String name, final int chunkSize, final double[] readTimes, final int[][] readChunks,
                     final int[][] pieceEnds, final long[] readBytes, final long[] chunkIndex, final long traceBytes,
                     final long distinctBytes) {
        this.name = name;
        this.chunkSize = chunkSize;
        this.readTimes = readTimes;
        this.readChunks = readChunks;
        this.pieceEnds = pieceEnds;
        this.readBytes = readBytes;
        this.chunkIndex = chunkIndex;
        this.traceBytes = traceBytes;
        this.distinctBytes = distinctBytes;
    }

    /**
     * Compiles {@code trace} for chunks of {@code chunkSize} bytes, multiplying its time offsets
     * by {@code timeScale} (as {@code virtman bench storm --time-scale} does).
     */
    public static Workload of(final String name, final BootTrace trace, final int chunkSize, final double timeScale) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk size must be > 0");
        }
        List<BootTrace.Read> reads = trace.reads();
        Map<Long, Integer> dense = new HashMap<>();
        List<Long> order = new ArrayList<>();
        double[] times = new double[reads.size()];
        int[][] chunks = new int[reads.size()][];
        int[][] ends = new int[reads.size()][];
        long[] bytes = new long[reads.size()];
        long total = 0;
        int[] scratch = new int[16];
        int[] endScratch = new int[16];
        for (int i = 0; i < reads.size(); i++) {
            BootTrace.Read r = reads.get(i);
            times[i] = r.timeSeconds() * timeScale;
            bytes[i] = r.length();
            total += r.length();
            int n = 0;
            int last = -1;
            for (long pos = r.offset(); pos < r.end(); pos += PIECE_BYTES) {
                long pieceEnd = Math.min(r.end(), pos + PIECE_BYTES);
                int firstOfPiece = n;
                for (long c = pos / chunkSize; c <= (pieceEnd - 1) / chunkSize; c++) {
                    Integer id = dense.get(c);
                    if (id == null) {
                        id = order.size();
                        dense.put(c, id);
                        order.add(c);
                    }
                    if (id != last) {
                        if (n == scratch.length) {
                            scratch = java.util.Arrays.copyOf(scratch, n * 2);
                            endScratch = java.util.Arrays.copyOf(endScratch, n * 2);
                        }
                        scratch[n++] = id;
                        last = id;
                    }
                }
                // A chunk shared with the previous piece stays that piece's (it is read there first).
                for (int k = firstOfPiece; k < n; k++) {
                    endScratch[k] = n - 1;
                }
            }
            chunks[i] = java.util.Arrays.copyOf(scratch, n);
            ends[i] = java.util.Arrays.copyOf(endScratch, n);
        }
        long[] index = order.stream().mapToLong(Long::longValue).toArray();
        return new Workload(name, chunkSize, times, chunks, ends, bytes, index, total, trace.distinctBytes());
    }

    /**
     * A larger boot made from {@code trace}: every read's offset and length multiplied by
     * {@code sizeFactor} (the layout stretched, so reads that were adjacent stay adjacent and do
     * not come to overlap), offsets folded into an image of {@code imageBytes}, 4 KiB-aligned,
     * times unchanged. Used for the paper's Windows Server 2008 image, whose boot reads "a few
     * hundred MB" of 15 GB; the resulting working set is measured, not assumed (a folded read that
     * lands on another is counted once).
     */
    public static BootTrace scaled(final BootTrace trace, final double sizeFactor, final long imageBytes) {
        long align = 4096;
        List<BootTrace.Read> out = new ArrayList<>();
        for (BootTrace.Read r : trace.reads()) {
            long length = Math.max(align, Math.round(r.length() * sizeFactor / align) * align);
            if (length > imageBytes) {
                throw new IllegalArgumentException("a scaled read is larger than the image");
            }
            long stretched = (long) (r.offset() * sizeFactor) / align * align;
            long room = (imageBytes - length) / align * align + align;
            long offset = stretched % room;
            out.add(new BootTrace.Read(r.timeSeconds(), offset, length));
        }
        return new BootTrace(out);
    }

    public String name() {
        return name;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public int reads() {
        return readTimes.length;
    }

    /** Start time of read {@code i}, seconds from the VM's start, scaled. */
    public double readTime(final int i) {
        return readTimes[i];
    }

    /** Dense ids of the chunks read {@code i} touches, in order. */
    public int[] readChunks(final int i) {
        return readChunks[i];
    }

    /**
     * Position (in {@link #readChunks}{@code (i)}) of the last chunk of the piece that position
     * {@code pos} belongs to: the chunks from {@code pos} to there are consecutive in the image and
     * one SCSI READ asks for them.
     */
    public int pieceEnd(final int i, final int pos) {
        return pieceEnds[i][pos];
    }

    public long readBytes(final int i) {
        return readBytes[i];
    }

    /** Distinct chunks the boot touches. */
    public int chunks() {
        return chunkIndex.length;
    }

    /** Image chunk number of dense id {@code id}. */
    public long imageChunk(final int id) {
        return chunkIndex[id];
    }

    /** Bytes a lazy host fetches: whole chunks of the working set. */
    public long chunkWorkingSetBytes() {
        return (long) chunkIndex.length * chunkSize;
    }

    /** Distinct bytes the trace reads. */
    public long distinctBytes() {
        return distinctBytes;
    }

    /** Bytes one VM reads (a byte read twice counts twice). */
    public long traceBytes() {
        return traceBytes;
    }

    /** Start time of the last read. */
    public double durationSeconds() {
        return readTimes.length == 0 ? 0 : readTimes[readTimes.length - 1];
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s: %d reads over %.1f s, %d chunks of %d KiB (%.1f MiB)", name, reads(),
                durationSeconds(), chunks(), chunkSize >> 10, chunkWorkingSetBytes() / 1048576.0);
    }
}
