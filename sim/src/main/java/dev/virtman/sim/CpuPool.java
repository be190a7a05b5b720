package dev.virtman.sim;

/**
 * A few identical cores, each running one piece of work at a time; work goes to the core free
 * first, in the order it arrives (first come, first served, not the OS's time slicing: total
 * throughput is exact, the order among concurrent pieces of work is not).
 */
final class CpuPool {
    private final double[] freeAt;
    private double busySeconds;

    CpuPool(final int cores) {
        if (cores < 1) {
            throw new IllegalArgumentException("a CPU pool needs at least one core");
        }
        this.freeAt = new double[cores];
    }

    /** Runs {@code cpuSeconds} of work that can start at {@code now}; returns when it is done. */
    double run(final double now, final double cpuSeconds) {
        int best = 0;
        for (int i = 1; i < freeAt.length; i++) {
            if (freeAt[i] < freeAt[best]) {
                best = i;
            }
        }
        double done = Math.max(now, freeAt[best]) + cpuSeconds;
        freeAt[best] = done;
        busySeconds += cpuSeconds;
        return done;
    }

    double busySeconds() {
        return busySeconds;
    }
}
