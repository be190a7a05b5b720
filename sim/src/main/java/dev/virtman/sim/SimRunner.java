package dev.virtman.sim;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Runs simulated storms and reports the JVM's peak heap around them, so every figure the
 * simulation prints comes with its cost on this machine.
 */
public final class SimRunner {
    private SimRunner() {
    }

    /** Forgets the heap pools' peaks, so {@link #peakHeapBytes} covers what runs next. */
    public static void resetPeakHeap() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    /** Sum of the heap pools' peak usage since the last reset (an upper bound: pools peak at different times). */
    public static long peakHeapBytes() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak;
    }
}
