package dev.virtman.trace;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The block reads a guest made of its base image while booting, in time order.
 *
 * <p>Recorded by {@code bench/record-boot-trace} (nbdkit's log filter in front of the image, QEMU
 * booting an overlay backed by it) and stored as CSV, {@value #CSV_HEADER} per line, time measured
 * from the first read. A trace answers the questions that size VirtMan's chunk cache: how many
 * distinct bytes a boot needs (its working set) and how many bytes a lazy fetch at a given chunk
 * size would pull to serve them.
 *
 * @param reads the reads, ordered by time
 */
public record BootTrace(List<Read> reads) {

    /** The first line of a trace file. */
    public static final String CSV_HEADER = "time_offset_seconds,byte_offset,length";

    private static final int CSV_FIELDS = 3;
    /** A single read larger than this is not a block read (QEMU caps requests far lower). */
    private static final long MAX_READ_LENGTH = 1L << 30;

    /** One read request: when (seconds from the first read), where and how many bytes. */
    public record Read(double timeSeconds, long offset, long length) {
        public Read {
            if (timeSeconds < 0 || Double.isNaN(timeSeconds)) {
                throw new IllegalArgumentException("read time must be >= 0: " + timeSeconds);
            }
            if (offset < 0) {
                throw new IllegalArgumentException("read offset must be >= 0: " + offset);
            }
            if (length <= 0 || length > MAX_READ_LENGTH) {
                throw new IllegalArgumentException("read length out of range: " + length);
            }
            if (offset > Long.MAX_VALUE - length) {
                throw new IllegalArgumentException("read end overflows: " + offset + "+" + length);
            }
        }

        /** The first byte after the read. */
        public long end() {
            return offset + length;
        }
    }

    public BootTrace {
        reads = List.copyOf(reads);
        for (int i = 1; i < reads.size(); i++) {
            if (reads.get(i).timeSeconds() < reads.get(i - 1).timeSeconds()) {
                throw new IllegalArgumentException("reads not in time order at index " + i);
            }
        }
    }

    /** Parses a trace file; errors name the file and line. */
    public static BootTrace readCsv(final Path file) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file)) {
            return parse(in, file.toString());
        }
    }

    static BootTrace parse(final BufferedReader in, final String source) throws IOException {
        String header = in.readLine();
        if (header == null || !header.strip().equals(CSV_HEADER)) {
            throw new IOException(source + ": first line must be '" + CSV_HEADER + "', got '" + header + "'");
        }
        List<Read> reads = new ArrayList<>();
        int lineNumber = 1;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.strip().split(",", -1);
            if (fields.length != CSV_FIELDS) {
                throw new IOException(source + ":" + lineNumber + ": expected " + CSV_FIELDS + " fields, got '" + line + "'");
            }
            try {
                reads.add(new Read(Double.parseDouble(fields[0]), Long.parseLong(fields[1]), Long.parseLong(fields[2])));
            } catch (IllegalArgumentException e) {
                throw new IOException(source + ":" + lineNumber + ": " + e.getMessage(), e);
            }
        }
        try {
            return new BootTrace(reads);
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    /** Bytes requested, counting a byte once per read of it. */
    public long totalBytes() {
        return reads.stream().mapToLong(Read::length).sum();
    }

    /** Distinct bytes read at least once: the boot's working set. */
    public long distinctBytes() {
        Read[] byOffset = reads.toArray(Read[]::new);
        Arrays.sort(byOffset, Comparator.comparingLong(Read::offset));
        long covered = 0;
        long runStart = -1;
        long runEnd = -1;
        for (Read r : byOffset) {
            if (r.offset() > runEnd) {
                covered += runEnd - runStart;
                runStart = r.offset();
                runEnd = r.end();
            } else {
                runEnd = Math.max(runEnd, r.end());
            }
        }
        return covered + (runEnd - runStart);
    }

    /** Seconds from the first read to the last. */
    public double durationSeconds() {
        return reads.isEmpty() ? 0 : reads.getLast().timeSeconds();
    }

    /** Distinct chunks of {@code chunkSize} bytes (aligned to multiples of it) that the reads touch. */
    public long chunksTouched(final long chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk size must be > 0: " + chunkSize);
        }
        long[] firsts = new long[reads.size()];
        long[] lasts = new long[reads.size()];
        Integer[] order = new Integer[reads.size()];
        for (int i = 0; i < reads.size(); i++) {
            firsts[i] = reads.get(i).offset() / chunkSize;
            lasts[i] = (reads.get(i).end() - 1) / chunkSize;
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingLong(i -> firsts[i]));
        long chunks = 0;
        long highest = -1;
        for (int i : order) {
            long from = Math.max(firsts[i], highest + 1);
            if (lasts[i] >= from) {
                chunks += lasts[i] - from + 1;
                highest = lasts[i];
            }
        }
        return chunks;
    }

    /**
     * Bytes a lazy fetch of whole chunks would transfer to serve this boot (each touched chunk once).
     * The image's last chunk may be shorter than {@code chunkSize}; this counts it whole.
     */
    public long bytesFetched(final long chunkSize) {
        return chunksTouched(chunkSize) * chunkSize;
    }

    @Override
    public String toString() {
        return "BootTrace[" + reads.size() + " reads, " + distinctBytes() + " distinct bytes]";
    }
}
