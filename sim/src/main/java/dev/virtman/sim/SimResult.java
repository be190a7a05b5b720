package dev.virtman.sim;

import java.util.Map;

/**
 * What one simulated storm predicts.
 *
 * @param strategy       strategy label
 * @param hosts          hosts
 * @param vmsPerHost     VMs per host
 * @param bootSeconds    completion time of every VM that finished, sorted (from the storm's start)
 * @param lostVms        VMs whose host died (they do not finish)
 * @param failedVms      VMs whose read failed (a chunk fetch exhausted every round of the fetch policy)
 * @param unfinishedVms  VMs on live hosts that never finished (should be 0)
 * @param sourceBytes    bytes the source sent
 * @param bytesPerLevel  bytes received by hosts at each tree depth (1 = children of the source)
 * @param treeDepth      deepest level in the tree (1 for flat, 0 when there is no tree)
 * @param fetches        chunks fetched (delivered, verified)
 * @param requests       upstream requests that delivered (one per run of chunks)
 * @param failedAttempts attempts that failed (dead parent: after the attempt timeout)
 * @param maxFetchSeconds longest one successful attempt took (request to verified chunk)
 * @param sourceBusySeconds time the source's link was busy
 * @param testbedCpuSeconds CPU seconds charged to the emulation machine's cores (0 without a {@link Testbed})
 * @param events         events the engine ran
 * @param wallSeconds    real time the simulation took
 * @param notes          what a reader should know (e.g. planner depth bound raised)
 */
public record SimResult(String strategy, int hosts, int vmsPerHost, double[] bootSeconds, int lostVms, int failedVms, int unfinishedVms,
                        long sourceBytes, Map<Integer, Long> bytesPerLevel, int treeDepth, long fetches, long requests,
                        long failedAttempts, double maxFetchSeconds, double sourceBusySeconds,
                        double testbedCpuSeconds, long events,
                        double wallSeconds, String notes) {

    /** The {@code q} quantile of completion (nearest rank, as the storm report computes it). */
    public double quantile(final double q) {
        if (bootSeconds.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * bootSeconds.length);
        return bootSeconds[Math.max(0, Math.min(bootSeconds.length - 1, rank - 1))];
    }

    public double p50() {
        return quantile(0.5);
    }

    public double p99() {
        return quantile(0.99);
    }

    public double max() {
        return bootSeconds.length == 0 ? Double.NaN : bootSeconds[bootSeconds.length - 1];
    }

    public int completed() {
        return bootSeconds.length;
    }

    @Override
    public String toString() {
        return strategy + " " + hosts + "x" + vmsPerHost + " p50=" + p50() + " p99=" + p99() + " max=" + max()
                + " source=" + sourceBytes + " completed=" + completed() + " lost=" + lostVms;
    }
}
