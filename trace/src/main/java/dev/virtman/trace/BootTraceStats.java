package dev.virtman.trace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Prints what a boot trace means for chunked lazy fetching: working set, total bytes read,
 * duration, and the bytes fetched at each candidate chunk size (run by {@code bench/trace-stats}).
 */
public final class BootTraceStats {

    private static final long KIB = 1024;
    private static final long MIB = KIB * KIB;
    /** The chunk sizes VirtMan's cache could use, 4 KiB (one page) to 4 MiB. */
    static final List<Long> CHUNK_SIZES = List.of(4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB);

    private BootTraceStats() {
    }

    /** Writes the report for one trace. */
    static void report(final String name, final BootTrace trace, final PrintStream out) {
        long distinct = trace.distinctBytes();
        out.printf(Locale.ROOT, "trace %s%n", name);
        out.printf(Locale.ROOT, "  reads          %d%n", trace.reads().size());
        out.printf(Locale.ROOT, "  duration       %.2f s (first read to last)%n", trace.durationSeconds());
        out.printf(Locale.ROOT, "  total read     %s%n", mib(trace.totalBytes()));
        out.printf(Locale.ROOT, "  working set    %s (distinct bytes)%n", mib(distinct));
        out.printf(Locale.ROOT, "  %-10s %10s %14s %12s%n", "chunk", "chunks", "fetched", "x working set");
        for (long chunk : CHUNK_SIZES) {
            long fetched = trace.bytesFetched(chunk);
            out.printf(Locale.ROOT, "  %-10s %10d %14s %12.2f%n", size(chunk), trace.chunksTouched(chunk), mib(fetched),
                    distinct == 0 ? 0.0 : (double) fetched / distinct);
        }
    }

    private static String mib(final long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", (double) bytes / MIB);
    }

    private static String size(final long bytes) {
        return bytes >= MIB ? bytes / MIB + " MiB" : bytes / KIB + " KiB";
    }

    public static void main(final String[] args) {
        if (args.length == 0) {
            System.err.println("usage: trace-stats TRACE.csv...");
            System.exit(2);
        }
        for (String arg : args) {
            try {
                report(arg, BootTrace.readCsv(Path.of(arg)), System.out);
            } catch (IOException e) {
                System.err.println("trace-stats: " + e.getMessage());
                System.exit(1);
            }
        }
    }
}
