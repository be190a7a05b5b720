package dev.virtman.bench.storm;

import dev.virtman.block.BlockDevice;
import dev.virtman.trace.BootTrace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * One emulated VM: replays a recorded boot trace against its host's export with the trace's
 * timing (each read waits until its recorded offset from the boot's start, scaled), and compares
 * every byte it reads with the image file read locally. A boot is complete when its last read
 * has returned and been verified.
 *
 * <p>Memory per VM stays at one {@value #COMPARE_BYTES}-byte buffer (the image it compares with is
 * one shared mapping, {@link ReferenceImage}) whatever the trace's read
 * sizes: long reads are issued and compared in pieces, in order, which is how a guest's block
 * layer splits large requests anyway.
 */
public final class EmulatedVm {
    /** Largest piece read and compared at once. */
    static final int COMPARE_BYTES = 64 << 10;

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private final String name;
    private final BootTrace trace;
    private final double timeScale;
    private final ReferenceImage reference;

    /**
     * @param timeScale multiplies the trace's time offsets (1 = real time, 0 = as fast as possible)
     * @param reference the image, opened locally, as the ground truth to compare against
     */
    public EmulatedVm(final String name, final BootTrace trace, final double timeScale, final ReferenceImage reference) {
        if (timeScale < 0 || Double.isNaN(timeScale)) {
            throw new IllegalArgumentException("time scale must be >= 0: " + timeScale);
        }
        this.name = name;
        this.trace = trace;
        this.timeScale = timeScale;
        this.reference = reference;
    }

    /**
     * The outcome of one replay; {@code error} is null when every read returned. {@code cpuNanos}
     * is the CPU the replaying thread used (issuing reads, reading the reference, comparing), -1
     * where the thread has no CPU clock (a virtual thread).
     */
    public record Result(String vm, long startNanos, long endNanos, long bytesRead, long mismatchedBytes,
                         String error, long cpuNanos) {
        public Result(final String vm, final long startNanos, final long endNanos, final long bytesRead,
                      final long mismatchedBytes, final String error) {
            this(vm, startNanos, endNanos, bytesRead, mismatchedBytes, error, -1);
        }

        public double seconds() {
            return (endNanos - startNanos) / 1e9;
        }

        public boolean ok() {
            return error == null && mismatchedBytes == 0;
        }
    }

    /** Replays the whole trace on {@code disk}; never throws, failures land in the result. */
    public Result replay(final BlockDevice disk, final long startNanos) {
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        Result r = replayTimed(disk, startNanos);
        long cpuEnd = THREADS.getCurrentThreadCpuTime();
        return new Result(r.vm(), r.startNanos(), r.endNanos(), r.bytesRead(), r.mismatchedBytes(), r.error(),
                cpuStart < 0 || cpuEnd < 0 ? -1 : cpuEnd - cpuStart);
    }

    private Result replayTimed(final BlockDevice disk, final long startNanos) {
        ByteBuffer got = ByteBuffer.allocate(COMPARE_BYTES);
        long bytes = 0;
        long mismatched = 0;
        try {
            for (BootTrace.Read r : trace.reads()) {
                waitUntil(startNanos + (long) (r.timeSeconds() * timeScale * TimeUnit.SECONDS.toNanos(1)));
                for (long pos = r.offset(); pos < r.end(); pos += COMPARE_BYTES) {
                    int n = (int) Math.min(COMPARE_BYTES, r.end() - pos);
                    got.clear().limit(n);
                    disk.read(pos, got);
                    mismatched += countMismatches(got.flip(), reference.slice(pos, n));
                    bytes += n;
                }
            }
            return new Result(name, startNanos, System.nanoTime(), bytes, mismatched, null);
        } catch (IOException | RuntimeException e) {
            return new Result(name, startNanos, System.nanoTime(), bytes, mismatched, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(name, startNanos, System.nanoTime(), bytes, mismatched, "interrupted");
        }
    }

    private static void waitUntil(final long deadlineNanos) throws InterruptedException {
        long wait = deadlineNanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    /** Bytes that differ; a short read counts its missing bytes as mismatched. */
    static long countMismatches(final ByteBuffer got, final ByteBuffer want) {
        long diff = Math.abs(got.remaining() - want.remaining());
        int n = Math.min(got.remaining(), want.remaining());
        int first = got.slice(got.position(), n).mismatch(want.slice(want.position(), n));
        if (first < 0) {
            return diff;
        }
        for (int i = first; i < n; i++) {
            if (got.get(got.position() + i) != want.get(want.position() + i)) {
                diff++;
            }
        }
        return diff;
    }
}
