package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.ForwardingBlockDevice;
import dev.virtman.trace.BootTrace;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Trace filter: records every read initiators make of an export as one line of the boot-trace
 * CSV ({@value BootTrace#CSV_HEADER}, see {@link BootTrace}), so the working set of a boot served
 * by an agent can be measured the same way as one served by nbdkit's log filter.
 *
 * <p>Stores one file, appended line by line and flushed per line (a boot makes about a thousand
 * reads), so a trace survives a kill of the agent up to the last complete line. Times are seconds
 * from the first read.
 */
final class ReadTraceRecorder extends ForwardingBlockDevice {
    private final BufferedWriter out;
    private long firstNanos = -1;

    private ReadTraceRecorder(final BlockDevice next, final BufferedWriter out) {
        super(next);
        this.out = out;
    }

    /** Starts a new trace in {@code file} (replacing an old one). */
    static ReadTraceRecorder create(final BlockDevice next, final Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        BufferedWriter out = Files.newBufferedWriter(file);
        out.write(BootTrace.CSV_HEADER);
        out.newLine();
        out.flush();
        return new ReadTraceRecorder(next, out);
    }

    @Override
    public void read(final long offset, final ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        record(offset, length);
        next.read(offset, dst);
    }

    private synchronized void record(final long offset, final int length) throws IOException {
        long now = System.nanoTime();
        if (firstNanos < 0) {
            firstNanos = now;
        }
        out.write(String.format(Locale.ROOT, "%.6f,%d,%d", (now - firstNanos) / 1e9, offset, length));
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        try {
            synchronized (this) {
                out.close();
            }
        } finally {
            next.close();
        }
    }
}
