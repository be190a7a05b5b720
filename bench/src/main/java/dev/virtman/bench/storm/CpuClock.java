package dev.virtman.bench.storm;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * CPU time this JVM has used, all threads together. The emulated storm runs every agent, VM and
 * the manager in one JVM, so CPU used over a strategy's run divided by its wall time is how many
 * of the machine's cores the storm kept busy: the figure that tells a CPU-bound storm from a
 * network-bound one (and that the simulation's testbed model is calibrated with).
 */
final class CpuClock {
    private CpuClock() {
    }

    /** Process CPU time in nanoseconds, or -1 where the JVM does not report it. */
    static long processCpuNanos() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    /** Seconds of CPU used since {@code startNanos} (a {@link #processCpuNanos} reading), or -1. */
    static double secondsSince(final long startNanos) {
        long now = processCpuNanos();
        return startNanos < 0 || now < 0 ? -1 : (now - startNanos) / 1e9;
    }
}
