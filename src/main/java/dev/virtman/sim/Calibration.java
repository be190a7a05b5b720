package dev.virtman.sim;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.vm.BootTrace;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Replays emulated storms ({@link StormMeasurement}) in the simulation and compares.
 *
 * <p>The emulated storm runs every agent and VM in one JVM on loopback: the only network limit is
 * each agent's upstream cap ({@code --link}), agents serve their children uncapped, the source
 * is uncapped, latency is loopback's. The one number not set by the storm's options is the
 * per-chunk overhead (iSCSI round, SHA-256, cache bookkeeping, and on this shared 2-core
 * machine, waiting for a core). It is measured, not fitted to the storm's results: either once
 * from a dedicated uncapped back-to-back lone-VM run ({@link #overheadFromLone}), or per storm
 * from the lone VM the storm report itself measured in the same run, before the multi-host
 * strategies, under the same machine load. Either way the multi-host predictions (tree, flat:
 * p50, p99, source bytes) are out of sample.
 */
public final class Calibration {
    /** One-way latency on loopback (measured TCP round trips on this machine are ~40 us). */
    static final double LOOPBACK_LATENCY = 20e-6;
    private static final double MAX_OVERHEAD = 1.0;
    private static final int BISECTION_STEPS = 40;

    private final FetchPolicy fetch;

    /** @param fetch the fetch policy the storm's agents used */
    public Calibration(final FetchPolicy fetch) {
        this.fetch = fetch;
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
    static NetworkModel modelOf(final StormMeasurement s, final double overhead) {
        double cap = s.linkBytesPerSecond() > 0 ? s.linkBytesPerSecond() : Link.UNLIMITED;
        return new NetworkModel(cap, Link.UNLIMITED, LOOPBACK_LATENCY, Link.UNLIMITED, Link.UNLIMITED, overhead,
                Link.UNLIMITED);
    }

    Workload workloadOf(final StormMeasurement s) throws IOException {
        return Workload.of(s.trace().getFileName().toString(), BootTrace.readCsv(s.trace()), s.chunkSize(), s.timeScale());
    }

    private Scenario scenario(final StormMeasurement s, final Workload w, final int hosts, final int vms,
                              final Strategy strategy, final double overhead) {
        return new Scenario(hosts, vms, w, s.imageBytes(), modelOf(s, overhead), strategy, false, 0, 0, 1, fetch,
                ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL, ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
    }

    /**
     * The per-chunk overhead that makes the simulated lone VM of {@code s} take {@code loneSeconds}
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
            Strategy strategy = switch (m.strategy()) {
                case "lone", "flat" -> Strategy.FLAT;
                case "tree" -> Strategy.tree(s.fanOut());
                case "full-copy" -> Strategy.FULL_COPY;
                default -> null; // fault variants: not replayed
            };
            if (strategy == null) {
                continue;
            }
            SimResult r = new BootStormSim(scenario(s, w, m.hosts(), m.vmsPerHost(), strategy, overhead)).run();
            rows.add(new Row(s, m, overhead, r));
        }
        return rows;
    }

    /** Markdown table of rows. */
    public static String markdown(final List<Row> rows) {
        StringBuilder b = new StringBuilder();
        b.append("| storm | strategy | overhead ms | measured p50 s | sim p50 s | err | measured p99 s | sim p99 s | err"
                + " | measured source MiB | sim source MiB | failed VMs meas/sim |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %+.1f%% | %.1f | %.1f | %d/%d |%n",
                    r.storm().label(), r.measured().strategy() + (r.measured().hosts() == 1 ? " (1×1)" : ""),
                    r.overhead() * 1e3, r.measured().p50(), r.predicted().p50(), 100 * r.p50Error(), r.measured().p99(),
                    r.predicted().p99(), 100 * r.p99Error(), r.measured().sourceBytes() / 1048576.0,
                    r.predicted().sourceBytes() / 1048576.0, r.measured().failed(), r.predicted().failedVms()));
        }
        return b.toString();
    }
}
