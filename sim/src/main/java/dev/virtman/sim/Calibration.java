package dev.virtman.sim;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.trace.BootTrace;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Replays emulated storms ({@link StormMeasurement}) in the simulation and compares.
 *
 * <p>The emulated storm runs every agent and VM in one JVM on loopback: the only network limit is
 * each agent's upstream cap ({@code --link}), agents serve their children uncapped, the source
 * is uncapped, latency is loopback's. The numbers not set by the storm's options are measured,
 * not fitted to the storm's results:
 * <ul>
 *   <li>the per-request overhead (iSCSI round, SHA-256, cache bookkeeping): either once from a
 *       dedicated uncapped back-to-back lone-VM run ({@link #overheadFromLone}), or per storm from
 *       the lone VM the storm report itself measured in the same run, before the multi-host
 *       strategies, under the same machine load;</li>
 *   <li>optionally the emulation machine's shared CPU ({@link Testbed}): CPU costs per command and
 *       per byte from the CPU time of a reference back-to-back storm ({@link #testbedFrom}).</li>
 * </ul>
 * Either way the multi-host predictions (tree, flat: p50, p99, source bytes) are out of sample.
 */
public final class Calibration {
    /** One-way latency on loopback (measured TCP round trips on this machine are ~40 us). */
    static final double LOOPBACK_LATENCY = 20e-6;
    private static final double MAX_OVERHEAD = 1.0;
    private static final int BISECTION_STEPS = 40;

    private final FetchPolicy fetch;
    private final Testbed testbed;

    /** @param fetch the fetch policy the storm's agents used */
    public Calibration(final FetchPolicy fetch) {
        this(fetch, Testbed.NONE);
    }

    /**
     * @param fetch   the fetch policy the storm's agents used
     * @param testbed the emulation machine's shared CPU ({@link #testbedFrom}), or {@link Testbed#NONE}
     */
    public Calibration(final FetchPolicy fetch, final Testbed testbed) {
        this.fetch = fetch;
        this.testbed = testbed;
    }

    /**
     * The emulation machine's CPU costs, measured from the CPU time the strategies of a reference
     * storm used (a back-to-back storm on one host: its lone VM and its V-VM runs): for each run the
     * model counts the SCSI commands (the VMs' 64 KiB READs and the agents' upstream requests) and
     * the bytes they move, and a least-squares fit without intercept of CPU seconds on the two gives
     * the cost per command and per byte. Runs without a CPU figure are skipped.
     */
    public Testbed testbedFrom(final StormMeasurement ref, final int cores) throws IOException {
        Workload w = workloadOf(ref);
        long piecesPerVm = 0;
        for (int r = 0; r < w.reads(); r++) {
            piecesPerVm += (w.readBytes(r) + Workload.PIECE_BYTES - 1) / Workload.PIECE_BYTES;
        }
        double scc = 0;
        double scb = 0;
        double sbb = 0;
        double scy = 0;
        double sby = 0;
        int runs = 0;
        for (StormMeasurement.Measured m : ref.results().values()) {
            Strategy strategy = strategyOf(ref, m);
            if (strategy == null || Double.isNaN(m.cpuSeconds())) {
                continue;
            }
            SimResult r = new BootStormSim(scenario(ref, w, m.hosts(), m.vmsPerHost(), strategy, 0, Testbed.NONE)).run();
            int vms = m.hosts() * m.vmsPerHost();
            double commands = r.requests() + (double) piecesPerVm * vms;
            double bytes = r.bytesPerLevel().values().stream().mapToLong(Long::longValue).sum()
                    + (double) w.traceBytes() * vms;
            scc += commands * commands;
            scb += commands * bytes;
            sbb += bytes * bytes;
            scy += commands * m.cpuSeconds();
            sby += bytes * m.cpuSeconds();
            runs++;
        }
        if (runs < 2) {
            throw new IllegalArgumentException(ref.report() + ": needs at least two runs with CPU time (a report of"
                    + " virtman bench storm with cpuSeconds, e.g. one host, several VMs, back to back)");
        }
        double det = scc * sbb - scb * scb;
        double perCommand = det == 0 ? 0 : (scy * sbb - sby * scb) / det;
        double perByte = det == 0 ? 0 : (sby * scc - scy * scb) / det;
        if (perCommand < 0 || det == 0) {
            perCommand = 0;
            perByte = sby / sbb;
        } else if (perByte < 0) {
            perByte = 0;
            perCommand = scy / scc;
        }
        return new Testbed(cores, perCommand, perByte);
    }

    private static Strategy strategyOf(final StormMeasurement s, final StormMeasurement.Measured m) {
        return switch (m.strategy()) {
            case "lone", "flat" -> Strategy.FLAT;
            case "tree" -> Strategy.tree(s.fanOut());
            case "full-copy" -> Strategy.FULL_COPY;
            default -> null; // fault variants: not replayed
        };
    }

    /** One strategy of one storm: measured next to predicted. */
    public record Row(StormMeasurement storm, StormMeasurement.Measured measured, double overhead, SimResult predicted) {
        public double p50Error() {
            return predicted.p50() / measured.p50() - 1;
        }

        public double p99Error() {
            return predicted.p99() / measured.p99() - 1;
        }
    }

    /** The storm's setup as a model: only the agents' upstream is capped. */
    static NetworkModel modelOf(final StormMeasurement s, final double overhead, final Testbed testbed) {
        double cap = s.linkBytesPerSecond() > 0 ? s.linkBytesPerSecond() : Link.UNLIMITED;
        return new NetworkModel(cap, Link.UNLIMITED, LOOPBACK_LATENCY, Link.UNLIMITED, Link.UNLIMITED, overhead,
                testbed);
    }

    Workload workloadOf(final StormMeasurement s) throws IOException {
        return Workload.of(s.trace().getFileName().toString(), BootTrace.readCsv(s.trace()), s.chunkSize(), s.timeScale());
    }

    private Scenario scenario(final StormMeasurement s, final Workload w, final int hosts, final int vms,
                              final Strategy strategy, final double overhead) {
        return scenario(s, w, hosts, vms, strategy, overhead, testbed);
    }

    private Scenario scenario(final StormMeasurement s, final Workload w, final int hosts, final int vms,
                              final Strategy strategy, final double overhead, final Testbed tb) {
        return new Scenario(hosts, vms, w, s.imageBytes(), modelOf(s, overhead, tb), strategy, false, 0, 0, 1, fetch,
                ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL, ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
    }

    /**
     * The per-request overhead that makes the simulated lone VM of {@code s} take {@code loneSeconds}
     * (bisection; 0 if the lone VM is faster than the model with no overhead at all).
     */
    public double overheadFromLone(final StormMeasurement s, final double loneSeconds) throws IOException {
        Workload w = workloadOf(s);
        double lo = 0;
        double hi = MAX_OVERHEAD;
        if (loneTime(s, w, 0) >= loneSeconds) {
            return 0;
        }
        for (int i = 0; i < BISECTION_STEPS; i++) {
            double mid = (lo + hi) / 2;
            if (loneTime(s, w, mid) < loneSeconds) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    private double loneTime(final StormMeasurement s, final Workload w, final double overhead) {
        return new BootStormSim(scenario(s, w, 1, 1, Strategy.FLAT, overhead)).run().max();
    }

    /** Median of the 1×1 runs (lone, and tree/flat on one host) in a report: the reference lone time. */
    public static double referenceLone(final StormMeasurement s) {
        List<Double> t = new ArrayList<>();
        for (StormMeasurement.Measured m : s.results().values()) {
            if (m.hosts() == 1 && m.vmsPerHost() == 1 && m.completed() == 1) {
                t.add(m.p50());
            }
        }
        if (t.isEmpty()) {
            throw new IllegalArgumentException(s.report() + " has no 1×1 run");
        }
        t.sort(null);
        return t.get(t.size() / 2);
    }

    /** Simulates every strategy {@code s} measured (lone, tree, flat, full-copy) with {@code overhead}. */
    public List<Row> replay(final StormMeasurement s, final double overhead) throws IOException {
        Workload w = workloadOf(s);
        List<Row> rows = new ArrayList<>();
        for (StormMeasurement.Measured m : s.results().values()) {
            Strategy strategy = strategyOf(s, m);
            if (strategy == null) {
                continue;
            }
            SimResult r = new BootStormSim(scenario(s, w, m.hosts(), m.vmsPerHost(), strategy, overhead)).run();
            rows.add(new Row(s, m, overhead, r));
        }
        return rows;
    }

    private static String coresBusy(final Row r) {
        String measured = Double.isNaN(r.measured().coresBusy()) ? "–"
                : String.format(Locale.ROOT, "%.2f", r.measured().coresBusy());
        String simulated = r.predicted().testbedCpuSeconds() == 0 ? "–"
                : String.format(Locale.ROOT, "%.2f", r.predicted().testbedCpuSeconds() / r.predicted().max());
        return measured + " / " + simulated;
    }

    /** Markdown table of rows. */
    public static String markdown(final List<Row> rows) {
        StringBuilder b = new StringBuilder();
        b.append("| storm | strategy | overhead ms | measured p50 s | sim p50 s | err | measured p99 s | sim p99 s | err"
                + " | measured source MiB | sim source MiB | failed VMs meas/sim | cores busy meas/sim |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %+.1f%% | %.1f | %.1f | %d/%d | %s |%n",
                    r.storm().label(), r.measured().strategy() + (r.measured().hosts() == 1 ? " (1×1)" : ""),
                    r.overhead() * 1e3, r.measured().p50(), r.predicted().p50(), 100 * r.p50Error(), r.measured().p99(),
                    r.predicted().p99(), 100 * r.p99Error(), r.measured().sourceBytes() / 1048576.0,
                    r.predicted().sourceBytes() / 1048576.0, r.measured().failed(), r.predicted().failedVms(),
                    coresBusy(r)));
        }
        return b.toString();
    }
}
