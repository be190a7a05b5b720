package dev.virtman.bench.storm;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples heap use and the JVM's resident set size on a daemon thread and keeps the peaks: the
 * storm's memory figures. Heap use counts garbage not yet collected; RSS is what the machine
 * really gave the process (heap pages touched, thread stacks, direct buffers, code).
 */
final class HeapSampler implements AutoCloseable {
    private static final long PERIOD_MILLIS = 100;
    /** Linux: the current resident set of this process, in kB. */
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final String RSS_FIELD = "VmRSS:";
    private static final long KIB = 1024;

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong peakRss = new AtomicLong(-1);
    private final PeriodicSampler sampler;

    HeapSampler() {
        sampler = new PeriodicSampler("storm-heap-sampler", PERIOD_MILLIS, this::sample, () -> { });
    }

    private void sample() {
        long used = memory.getHeapMemoryUsage().getUsed();
        peak.accumulateAndGet(used, Math::max);
        long rss = rssBytes();
        peakRss.accumulateAndGet(rss, Math::max);
    }

    /** The process's resident set size now, or -1 where /proc is not there. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(RSS_FIELD)) {
                    String kb = line.substring(RSS_FIELD.length()).trim().split("\\s+")[0];
                    return Long.parseLong(kb) * KIB;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    long peakBytes() {
        sample();
        return peak.get();
    }

    long peakRssBytes() {
        sample();
        return peakRss.get();
    }

    @Override
    public void close() {
        sampler.close();
    }
}
