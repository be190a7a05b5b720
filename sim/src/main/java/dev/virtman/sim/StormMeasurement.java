package dev.virtman.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an emulated storm measured, read back from its {@code storm-report.json}
 * ({@code virtman bench storm}): the setup to replay and each strategy's figures to compare with.
 *
 * @param report     the file it came from
 * @param hosts      hosts of the storm strategies
 * @param vmsPerHost VMs per host
 * @param fanOut     tree fan-out
 * @param trace      the boot trace file the storm replayed
 * @param chunkSize  manifest chunk size
 * @param timeScale  factor on the trace's times
 * @param linkBytesPerSecond each host's upstream cap (0 = none)
 * @param imageBytes image size
 * @param results    strategy name (lone, tree, flat, full-copy, ...) to its measured figures
 */
public record StormMeasurement(Path report, int hosts, int vmsPerHost, int fanOut, Path trace, int chunkSize,
                               double timeScale, long linkBytesPerSecond, long imageBytes,
                               Map<String, Measured> results) {

    /**
     * One strategy's measured figures.
     *
     * @param strategy   its name in the report
     * @param hosts      hosts it ran on
     * @param vmsPerHost VMs per host
     * @param completed  VMs that completed
     * @param failed     VMs that failed
     * @param p50        median completion, seconds
     * @param p99        99th percentile
     * @param max        slowest VM
     * @param sourceBytes bytes the source served
     * @param cpuSeconds CPU time the storm's JVM used during the run (NaN in reports that predate it)
     * @param wallSeconds wall time of the run (NaN in reports that predate it)
     */
    public record Measured(String strategy, int hosts, int vmsPerHost, int completed, int failed, double p50, double p99,
                           double max, long sourceBytes, double cpuSeconds, double wallSeconds) {
        /** Cores the storm kept busy on average, NaN if not recorded. */
        public double coresBusy() {
            return cpuSeconds / wallSeconds;
        }
    }

    /**
     * Reads {@code report}. The trace path recorded in it is used if it exists, else a file of the
     * same name under {@code traceDir} (reports made in another checkout).
     */
    public static StormMeasurement read(final Path report, final Path traceDir) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(report));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(report + ": not a storm-report.json (" + e.getOriginalMessage() + ")", e);
        }
        JsonNode s = root.path("settings");
        if (s.isMissingNode() || !root.path("results").isArray()) {
            throw new IOException(report + ": not a storm-report.json (no settings/results)");
        }
        Path trace = Path.of(s.path("trace").asText());
        if (!Files.exists(trace) && traceDir != null) {
            trace = traceDir.resolve(trace.getFileName().toString());
        }
        Map<String, Measured> results = new LinkedHashMap<>();
        for (JsonNode r : root.path("results")) {
            results.put(r.path("strategy").asText(), new Measured(r.path("strategy").asText(), r.path("hosts").asInt(),
                    r.path("vmsPerHost").asInt(), r.path("completed").asInt(), r.path("failedVms").asInt(),
                    r.path("p50Seconds").asDouble(Double.NaN), r.path("p99Seconds").asDouble(Double.NaN),
                    r.path("maxSeconds").asDouble(Double.NaN), r.path("sourceBytes").asLong(),
                    positiveOrNaN(r.path("cpuSeconds").asDouble(Double.NaN)),
                    positiveOrNaN(r.path("wallSeconds").asDouble(Double.NaN))));
        }
        return new StormMeasurement(report, s.path("hosts").asInt(), s.path("vmsPerHost").asInt(),
                s.path("fanOut").asInt(), trace, s.path("chunkSize").asInt(), s.path("timeScale").asDouble(),
                s.path("linkBytesPerSecond").asLong(), s.path("imageBytes").asLong(), results);
    }

    private static double positiveOrNaN(final double v) {
        return v > 0 ? v : Double.NaN;
    }

    /** Short name: "10×4, 2.0 MB/s". */
    public String label() {
        return String.format(java.util.Locale.ROOT, "%d×%d, %s", hosts, vmsPerHost,
                linkBytesPerSecond == 0 ? "no cap" : String.format(java.util.Locale.ROOT, "%.2f MB/s",
                        linkBytesPerSecond / 1e6));
    }
}
