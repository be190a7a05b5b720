package dev.virtman.sim;

/**
 * The CPU of the one machine an emulated storm runs on, for replaying such storms
 * ({@link Calibration}); real deployments use {@link #NONE}, since every host has its own cores.
 *
 * <p>In the emulated storm every agent, VM, the source and the manager share one JVM on a few
 * cores, so when hundreds of VM sessions and tens of agents are busy each iSCSI hop waits for a
 * core. The model charges CPU work to a pool of {@code cores} identical servers, first come first
 * served ({@link CpuPool}): each SCSI command costs {@code cpuPerCommand} plus {@code cpuPerByte}
 * for every byte it moves (a VM's 64 KiB read, checked against the image; an agent's upstream READ
 * of a run, hashed and cached). Both costs are measured from the CPU time two reference storms
 * used, not fitted to the storms being predicted.
 *
 * @param cores         cores of the machine (0 = no shared CPU: {@link #NONE})
 * @param cpuPerCommand CPU seconds per SCSI command, all parties together
 * @param cpuPerByte    CPU seconds per byte moved
 */
public record Testbed(int cores, double cpuPerCommand, double cpuPerByte) {
    /** Hosts with their own CPUs: nothing shared. */
    public static final Testbed NONE = new Testbed(0, 0, 0);

    public Testbed {
        if (cores < 0 || cpuPerCommand < 0 || cpuPerByte < 0) {
            throw new IllegalArgumentException("testbed cores and CPU costs must be >= 0");
        }
    }

    public boolean shared() {
        return cores > 0;
    }

    /** CPU seconds of one command moving {@code bytes}. */
    public double cost(final long bytes) {
        return cpuPerCommand + bytes * cpuPerByte;
    }
}
