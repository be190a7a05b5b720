package dev.virtman.bench.storm;

import java.util.List;
import java.util.Map;

/**
 * The figures of one storm strategy run.
 *
 * @param strategy        what ran: {@code tree}, {@code flat}, {@code full-copy}, {@code lone}, a fault variant
 * @param hosts           emulated hosts
 * @param vmsPerHost      emulated VMs per host
 * @param bootSeconds     completion time of every VM that completed, from the storm's start, ascending
 * @param failedVms       VMs that ended with a read error
 * @param mismatchedBytes bytes read that differed from the image (must be 0)
 * @param verifiedBytes   bytes read and compared
 * @param sourceBytes     image bytes the source sent
 * @param bytesPerLevel   bytes fetched by the agents at each tree depth (1 = children of the source)
 * @param cacheHitRatio   agent chunk reads served from cache over all chunk reads
 * @param peakHeapBytes   highest sampled heap use during the run (garbage not yet collected included)
 * @param peakRssBytes    highest sampled resident set size of this JVM during the run, -1 if unknown
 * @param cpuSeconds      CPU time the whole JVM (agents, VMs, manager, source) used during the run, -1 if unknown
 * @param cpuSplit        the part of {@code cpuSeconds} that the emulated VMs and the bench's meters used
 * @param wallSeconds     wall time of the run, from the storm's start to the last VM's end
 * @param errors          the first few distinct VM errors
 * @param notes           what was special about this run (faults injected, sampling)
 */
public record StrategyResult(String strategy, int hosts, int vmsPerHost, List<Double> bootSeconds, int failedVms,
                             long mismatchedBytes, long verifiedBytes, long sourceBytes,
                             Map<Integer, Long> bytesPerLevel, double cacheHitRatio, long peakHeapBytes, long peakRssBytes,
                             double cpuSeconds, CpuSplit cpuSplit, double wallSeconds, List<String> errors,
                             List<String> notes) {

    /**
     * CPU seconds of the bench's own parts: the emulated VMs' replay threads (issue reads, read
     * the reference image, compare), their iSCSI sessions' receive threads ({@code -1}: unknown),
     * and the bench's CPU meter. VirtMan's share is the rest of the process's CPU.
     */
    public record CpuSplit(double vmReplaySeconds, double vmReaderSeconds, double meterSeconds) {
        public static final CpuSplit UNKNOWN = new CpuSplit(0, -1, 0);

        /** The emulated VMs' CPU, or -1 if the readers' part is unknown. */
        public double vmSeconds() {
            return vmReaderSeconds < 0 ? -1 : vmReplaySeconds + vmReaderSeconds;
        }
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    /** Process CPU seconds per GiB the VMs read and verified, or -1 if unknown. */
    public double coreSecondsPerGib() {
        return cpuSeconds < 0 || verifiedBytes <= 0 ? -1 : cpuSeconds / (verifiedBytes / GIB);
    }

    /** The emulated VMs' CPU seconds per GiB they read, or -1 if unknown. */
    public double vmCoreSecondsPerGib() {
        return cpuSplit.vmSeconds() < 0 || verifiedBytes <= 0 ? -1 : cpuSplit.vmSeconds() / (verifiedBytes / GIB);
    }

    /** CPU seconds per GiB delivered of everything but the emulated VMs and the meter: VirtMan's own path. */
    public double virtmanCoreSecondsPerGib() {
        if (coreSecondsPerGib() < 0 || cpuSplit.vmSeconds() < 0) {
            return -1;
        }
        return (cpuSeconds - cpuSplit.vmSeconds() - cpuSplit.meterSeconds()) / (verifiedBytes / GIB);
    }

    public int vms() {
        return hosts * vmsPerHost;
    }

    public boolean allVerified() {
        return failedVms == 0 && mismatchedBytes == 0 && bootSeconds.size() == vms();
    }

    /** The {@code q}-quantile (0..1) of boot completion, nearest rank; NaN if no VM completed. */
    public double quantile(final double q) {
        if (bootSeconds.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * bootSeconds.size());
        return bootSeconds.get(Math.max(0, Math.min(bootSeconds.size() - 1, rank - 1)));
    }

    /** Cores kept busy on average (CPU seconds over wall seconds), or -1 if unknown. */
    public double coresBusy() {
        return cpuSeconds < 0 || !(wallSeconds > 0) ? -1 : cpuSeconds / wallSeconds;
    }

    public double max() {
        return bootSeconds.isEmpty() ? Double.NaN : bootSeconds.getLast();
    }
}
