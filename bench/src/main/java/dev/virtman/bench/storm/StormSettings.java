package dev.virtman.bench.storm;

import java.util.Locale;

/**
 * What a storm run was asked to do.
 *
 * @param hosts           emulated hosts (agents)
 * @param vmsPerHost      emulated VMs per host
 * @param fanOut          children per tree node, the source included
 * @param trace           the boot trace file replayed by every VM
 * @param traceReads      reads in the trace
 * @param traceSeconds    the trace's duration, unscaled
 * @param workingSetBytes distinct bytes the trace reads
 * @param chunkSize       the manager's chunk size for the storm image
 * @param chunkWorkingSetBytes bytes of the whole chunks the trace touches: what one lazy agent fetches
 * @param imageBytes      size of the storm image
 * @param timeScale       factor on the trace's time offsets
 * @param linkBytesPerSecond each host's upstream cap, 0 = none
 * @param killInterior    fraction of interior agents killed mid-storm (0 = no fault run)
 * @param restartManager  whether a run restarts the manager mid-storm
 * @param fullCopyHosts   hosts in the full-copy baseline (0 = skipped)
 * @param flat            whether the flat-lazy baseline runs
 * @param bootProfile     whether the manager starts with the image's boot profile (as after an earlier
 *                        boot of the image), so every agent prefetches it while its VMs read
 * @param freezeInterior  fraction of interior agents frozen mid-storm (silent: connections open, nothing
 *                        answered, no heartbeats; 0 = no freeze run)
 * @param freezeSeconds   how long they stay frozen
 * @param unhedgedBaseline whether the fault-free tree also runs with hedging off, for comparison
 * @param unhedgedFirst   whether that baseline runs before the hedged tree (alternate the order between
 *                        runs: the first 200-VM storm in a JVM has been the slowest)
 */
public record StormSettings(int hosts, int vmsPerHost, int fanOut, String trace, int traceReads, double traceSeconds,
                            long workingSetBytes, int chunkSize, long chunkWorkingSetBytes, long imageBytes, double timeScale, long linkBytesPerSecond,
                            double killInterior, boolean restartManager, int fullCopyHosts, boolean flat,
                            boolean bootProfile, double freezeInterior, double freezeSeconds,
                            boolean unhedgedBaseline, boolean unhedgedFirst) {

    /**
     * The storm's chunk size: 32 KiB, not the manager's 64 KiB default. Lazy agents fetch whole
     * chunks, so what the source sends per tree branch is the working set rounded up to chunks:
     * for the Debian trace 1.28× the bytes read at 64 KiB, over the 1.2 bound, and 1.14×
     * at 32 KiB. bench/chunk-size measured 32 KiB at 1.38× 64 KiB's cold sequential replay time
     * on a 200 us / 1 Gbit link and 0.70× on a 1 ms / 200 Mbit one (docs/benchmarks.md).
     */
    public static final int DEFAULT_CHUNK_SIZE = 32 << 10;

    /** The settings without a boot profile: every agent fetches on demand only. */
    public StormSettings(final int hosts, final int vmsPerHost, final int fanOut, final String trace,
                         final int traceReads, final double traceSeconds, final long workingSetBytes,
                         final int chunkSize, final long chunkWorkingSetBytes, final long imageBytes,
                         final double timeScale, final long linkBytesPerSecond, final double killInterior,
                         final boolean restartManager, final int fullCopyHosts, final boolean flat) {
        this(hosts, vmsPerHost, fanOut, trace, traceReads, traceSeconds, workingSetBytes, chunkSize,
                chunkWorkingSetBytes, imageBytes, timeScale, linkBytesPerSecond, killInterior, restartManager,
                fullCopyHosts, flat, false, 0, 0, false, false);
    }

    String shortDescription() {
        return String.format(Locale.ROOT, "%d hosts × %d VMs, fan-out %d, %d KiB chunks, time scale %.2f%s", hosts,
                vmsPerHost, fanOut, chunkSize >> 10, timeScale, bootProfile ? ", boot profile" : "");
    }

    String describe() {
        return String.format(Locale.ROOT,
                "%s. Trace `%s`: %d reads over %.1f s, working set %s (%s in whole chunks); image %s (sparse, random data in the"
                        + " traced regions). Link cap per host: %s. Every byte each VM read was compared with the image.",
                shortDescription(), trace, traceReads, traceSeconds, StormReport.bytes(workingSetBytes),
                StormReport.bytes(chunkWorkingSetBytes), StormReport.bytes(imageBytes),
                linkBytesPerSecond == 0 ? "none" : StormReport.bytes(linkBytesPerSecond) + "/s")
                + (bootProfile ? " The manager held the image's boot profile from the start (the trace's chunks in"
                        + " first-read order, what a first boot records), so every agent prefetched it at low priority"
                        + " while its VMs read." : " No boot profile: agents fetched on demand only.");
    }
}
