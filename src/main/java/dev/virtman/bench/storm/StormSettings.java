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
 */
public record StormSettings(int hosts, int vmsPerHost, int fanOut, String trace, int traceReads, double traceSeconds,
                            long workingSetBytes, int chunkSize, long chunkWorkingSetBytes, long imageBytes, double timeScale, long linkBytesPerSecond,
                            double killInterior, boolean restartManager, int fullCopyHosts, boolean flat) {

    String shortDescription() {
        return String.format(Locale.ROOT, "%d hosts × %d VMs, fan-out %d, %d KiB chunks, time scale %.2f", hosts,
                vmsPerHost, fanOut, chunkSize >> 10, timeScale);
    }

    String describe() {
        return String.format(Locale.ROOT,
                "%s. Trace `%s`: %d reads over %.1f s, working set %s (%s in whole chunks); image %s (sparse, random data in the"
                        + " traced regions). Link cap per host: %s. Every byte each VM read was compared with the image.",
                shortDescription(), trace, traceReads, traceSeconds, StormReport.bytes(workingSetBytes),
                StormReport.bytes(chunkWorkingSetBytes), StormReport.bytes(imageBytes),
                linkBytesPerSecond == 0 ? "none" : StormReport.bytes(linkBytesPerSecond) + "/s");
    }
}
