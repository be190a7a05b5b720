package dev.virtman.cli;

import dev.virtman.agent.BandwidthCap;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.sim.BootStormSim;
import dev.virtman.sim.Calibration;
import dev.virtman.sim.Link;
import dev.virtman.sim.NetworkModel;
import dev.virtman.sim.Scenario;
import dev.virtman.sim.Scenarios;
import dev.virtman.sim.SimReport;
import dev.virtman.sim.SimResult;
import dev.virtman.sim.SimRunner;
import dev.virtman.sim.StormMeasurement;
import dev.virtman.sim.Strategy;
import dev.virtman.sim.Testbed;
import dev.virtman.sim.Workload;
import dev.virtman.trace.BootTrace;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code virtman sim}: the discrete-event boot-storm simulation (docs/simulation.md). */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = "Simulate boot storms past one machine: real planner and fetch policies, modelled network.",
        subcommands = {SimCommand.Run.class, SimCommand.Calibrate.class, SimCommand.Plan.class,
            CommandLine.HelpCommand.class})
public final class SimCommand implements Runnable {
    /**
     * Per-chunk overhead used when none is given: measured on this machine from an uncapped,
     * back-to-back lone-VM storm (docs/simulation.md, "Calibration"), rounded.
     */
    static final String DEFAULT_OVERHEAD_MS = "0.5";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (run, calibrate, plan)");
    }

    /** {@code virtman sim run}: one storm, chosen strategies, one table. */
    @Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Simulate one storm with each of the given strategies and print a table.")
    static final class Run implements Callable<Integer> {
        @Option(names = "--hosts", defaultValue = "100", description = "hosts (default: ${DEFAULT-VALUE})")
        int hosts;
        @Option(names = "--vms-per-host", defaultValue = "10", description = "VMs per host (default: ${DEFAULT-VALUE})")
        int vms;
        @Option(names = "--trace", defaultValue = "bench/traces/debian12-boot.csv", paramLabel = "CSV",
                description = "boot trace (default: ${DEFAULT-VALUE})")
        Path trace;
        @Option(names = "--size-factor", defaultValue = "1", paramLabel = "K",
                description = "multiply every read's length by K and spread it over --image-size (default: ${DEFAULT-VALUE})")
        double sizeFactor;
        @Option(names = "--time-scale", defaultValue = "1", description = "factor on the trace's times (default: ${DEFAULT-VALUE})")
        double timeScale;
        @Option(names = "--chunk-size", paramLabel = "BYTES", description = "chunk size (default: 64 KiB, the manager's)")
        Integer chunkSize;
        @Option(names = "--image-size", paramLabel = "BYTES", defaultValue = "15000000000",
                description = "image size: what a full copy moves (default: ${DEFAULT-VALUE})")
        long imageSize;
        @Option(names = "--strategies", split = ",", defaultValue = "full-copy,flat,tree-2,tree-4,tree-8,multi-parent",
                description = "full-copy, flat, tree-F, multi-parent (default: ${DEFAULT-VALUE})")
        List<String> strategies;
        @Option(names = "--link", defaultValue = "1gbit", paramLabel = "RATE",
                description = "every NIC, both directions, source included (default: ${DEFAULT-VALUE})")
        String link;
        @Option(names = "--host-in", paramLabel = "RATE", description = "hosts' receiving rate (default: --link)")
        String hostIn;
        @Option(names = "--host-out", paramLabel = "RATE", description = "hosts' sending rate (default: --link)")
        String hostOut;
        @Option(names = "--source-nic", paramLabel = "RATE", description = "source's sending rate (default: --link)")
        String sourceNic;
        @Option(names = "--source-disk", paramLabel = "RATE", defaultValue = "1000MB",
                description = "source disk read rate (default: ${DEFAULT-VALUE})")
        String sourceDisk;
        @Option(names = "--latency-us", defaultValue = "100", description = "one-way latency, µs (default: ${DEFAULT-VALUE})")
        double latencyMicros;
        @Option(names = "--overhead-ms", defaultValue = DEFAULT_OVERHEAD_MS,
                description = "per-request fetch overhead (one upstream READ of a chunk or run), ms (default: ${DEFAULT-VALUE})")
        double overheadMillis;
        @Option(names = "--prefetch", description = "hosts prefetch the boot profile (a later storm of the same image)")
        boolean prefetch;
        @Option(names = "--fail", defaultValue = "0", paramLabel = "FRACTION", description = "fraction of hosts that die")
        double fail;
        @Option(names = "--fail-at", defaultValue = "20", paramLabel = "SECONDS", description = "when they die (default: ${DEFAULT-VALUE})")
        double failAt;
        @Option(names = "--fetch-timeout", defaultValue = "5", paramLabel = "SECONDS",
                description = "agents' attempt timeout (default: ${DEFAULT-VALUE}, FetchPolicy.DEFAULT)")
        double fetchTimeout;
        @Option(names = "--fetch-rounds", defaultValue = "3", description = "agents' rounds over the parent list (default: ${DEFAULT-VALUE})")
        int fetchRounds;
        @Option(names = "--seed", defaultValue = "1")
        long seed;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            if (hosts < 1 || vms < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--hosts and --vms-per-host must be >= 1");
            }
            int chunk = chunkSize == null ? ChunkManifest.DEFAULT_CHUNK_SIZE : chunkSize;
            if (!Files.isRegularFile(trace)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--trace: no such file: " + trace);
            }
            BootTrace bt = BootTrace.readCsv(trace);
            if (sizeFactor != 1) {
                bt = Workload.scaled(bt, sizeFactor, imageSize);
            }
            Workload w = Workload.of(trace.getFileName().toString(), bt, chunk, timeScale);
            double all = rate(link);
            NetworkModel net = new NetworkModel(orElse(hostIn, all), orElse(hostOut, all), latencyMicros * 1e-6,
                    orElse(sourceNic, all), rate(sourceDisk), overheadMillis * 1e-3, Testbed.NONE);
            FetchPolicy policy = FetchPolicy.DEFAULT.withAttemptTimeout(Duration.ofMillis((long) (fetchTimeout * 1e3)))
                    .withRounds(fetchRounds, FetchPolicy.DEFAULT.backoff());
            PrintWriter outp = spec.commandLine().getOut();
            outp.println("workload: " + w);
            List<SimResult> results = new ArrayList<>();
            for (String name : strategies) {
                Strategy st = parse(name);
                Scenario s = new Scenario(hosts, vms, w, imageSize, net, st, prefetch, fail, failAt, seed, policy,
                        ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL, ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
                SimRunner.resetPeakHeap();
                SimResult r = new BootStormSim(s).run();
                results.add(r);
                System.err.printf(Locale.ROOT, "sim: %s %d×%d: p50 %.1f s, p99 %.1f s, %d done, %d failed, source %.2f GB;"
                                + " %.1f s wall, %d events, peak heap %d MiB%s%n", st.label(), hosts, vms, r.p50(), r.p99(),
                        r.completed(), r.failedVms(), r.sourceBytes() / 1e9, r.wallSeconds(), r.events(),
                        SimRunner.peakHeapBytes() >> 20, r.notes().isEmpty() ? "" : " (" + r.notes() + ")");
            }
            outp.print(SimReport.table(results));
            outp.flush();
            return 0;
        }

        private Strategy parse(final String name) {
            try {
                return Strategy.parse(name);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--strategies: " + e.getMessage());
            }
        }

        private double orElse(final String text, final double fallback) {
            return text == null ? fallback : rate(text);
        }

        private double rate(final String text) {
            try {
                long r = BandwidthCap.parse(text);
                return r == 0 ? Link.UNLIMITED : r;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    /** {@code virtman sim calibrate}: replay emulated storms and compare. */
    @Command(name = "calibrate", mixinStandardHelpOptions = true,
            description = "Replay emulated storms (storm-report.json) in the simulation and print the errors.")
    static final class Calibrate implements Callable<Integer> {
        @Parameters(paramLabel = "STORM_REPORT_JSON", arity = "1..*", description = "reports of virtman bench storm")
        List<Path> reports;
        @Option(names = "--overhead-from", paramLabel = "JSON",
                description = "an uncapped back-to-back 1×1 storm report: per-request overhead measured once from it")
        Path overheadFrom;
        @Option(names = "--traces", defaultValue = "bench/traces", paramLabel = "DIR",
                description = "where to find a report's trace if its recorded path is gone (default: ${DEFAULT-VALUE})")
        Path traces;
        @Option(names = "--cpu-from", paramLabel = "JSON",
                description = "a back-to-back storm report with CPU times (one host, several VMs): model the emulation"
                        + " machine's shared cores with the CPU costs measured from it")
        Path cpuFrom;
        @Option(names = "--cores", paramLabel = "N",
                description = "cores of the machine the storms ran on (default: this machine's)")
        Integer cores;
        @Option(names = "--fetch-timeout", defaultValue = "5", paramLabel = "SECONDS",
                description = "the storm agents' attempt timeout (default: ${DEFAULT-VALUE})")
        double fetchTimeout;
        @Option(names = "--fetch-rounds", defaultValue = "3", description = "the storm agents' rounds (default: ${DEFAULT-VALUE})")
        int fetchRounds;
        @Option(names = "--fetch-backoff-ms", defaultValue = "200", description = "first back-off (default: ${DEFAULT-VALUE})")
        long backoffMillis;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            FetchPolicy policy = FetchPolicy.DEFAULT.withAttemptTimeout(Duration.ofMillis((long) (fetchTimeout * 1e3)))
                    .withRounds(fetchRounds, Duration.ofMillis(backoffMillis));
            PrintWriter out = spec.commandLine().getOut();
            Testbed testbed = Testbed.NONE;
            if (cpuFrom != null) {
                int n = cores != null ? cores : Runtime.getRuntime().availableProcessors();
                if (n < 1) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--cores must be >= 1");
                }
                testbed = new Calibration(policy).testbedFrom(StormMeasurement.read(cpuFrom, traces), n);
                out.printf(Locale.ROOT, "Testbed CPU from %s: %d cores, %.1f µs per SCSI command, %.2f ns per byte"
                        + " (%.0f MB/s per core)%n%n", cpuFrom, n, testbed.cpuPerCommand() * 1e6,
                        testbed.cpuPerByte() * 1e9, testbed.cpuPerByte() == 0 ? 0 : 1e-6 / testbed.cpuPerByte());
            }
            Calibration cal = new Calibration(policy, testbed);
            List<Calibration.Row> global = new ArrayList<>();
            List<Calibration.Row> perStorm = new ArrayList<>();
            Double globalOverhead = null;
            if (overheadFrom != null) {
                StormMeasurement ref = StormMeasurement.read(overheadFrom, traces);
                double lone = Calibration.referenceLone(ref);
                globalOverhead = cal.overheadFromLone(ref, lone);
                out.printf(Locale.ROOT, "Per-request overhead from %s: lone VM %.2f s (median of its 1×1 runs)"
                        + " -> %.3f ms per upstream request%n%n", overheadFrom, lone, globalOverhead * 1e3);
            }
            for (Path p : reports) {
                StormMeasurement s = StormMeasurement.read(p, traces);
                if (globalOverhead != null) {
                    global.addAll(cal.replay(s, globalOverhead));
                }
                StormMeasurement.Measured lone = s.results().get("lone");
                if (lone != null) {
                    perStorm.addAll(cal.replay(s, cal.overheadFromLone(s, lone.p50())));
                }
            }
            if (!global.isEmpty()) {
                out.println("Overhead measured once (reference run above):\n");
                out.println(Calibration.markdown(global));
            }
            if (!perStorm.isEmpty()) {
                out.println("Overhead measured per storm from its own lone VM (same run, same machine load):\n");
                out.println(Calibration.markdown(perStorm));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code virtman sim plan}: the paper, scaling and failure scenarios, tables and figures. */
    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Run the planning scenarios (paper testbed, scaling to 10,000 hosts, 1%% failures).")
    static final class Plan implements Callable<Integer> {
        @Option(names = "--scenario", defaultValue = "all", description = "paper, scaling, failures or all (default: ${DEFAULT-VALUE})")
        String scenario;
        @Option(names = "--trace", defaultValue = "bench/traces/debian12-boot.csv", paramLabel = "CSV")
        Path trace;
        @Option(names = "--overhead-ms", defaultValue = DEFAULT_OVERHEAD_MS, description = "per-request overhead, ms (default: ${DEFAULT-VALUE})")
        double overheadMillis;
        @Option(names = "--max-hosts", defaultValue = "10000", description = "largest storm of the scaling curve (default: ${DEFAULT-VALUE})")
        int maxHosts;
        @Option(names = "--scaling-strategies", split = ",", defaultValue = "full-copy,flat,tree-2,tree-4,multi-parent",
                description = "strategies of the scaling curve (default: ${DEFAULT-VALUE})")
        List<String> scalingStrategies;
        @Option(names = "--scaling-workload", defaultValue = "debian", paramLabel = "debian|windows",
                description = "boot of the scaling curve: the recorded Debian boot (40 MiB) or the Windows-like one of"
                        + " the paper scenario (~320 MiB, 8x the events) (default: ${DEFAULT-VALUE})")
        String scalingWorkload;
        @Option(names = "--out", defaultValue = "sim-out", paramLabel = "DIR", description = "tables and SVGs (default: ${DEFAULT-VALUE})")
        Path out;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            boolean all = "all".equals(scenario);
            if (!all && !List.of("paper", "scaling", "failures").contains(scenario)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--scenario: paper, scaling, failures or all");
            }
            if (!Files.isRegularFile(trace)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--trace: no such file: " + trace);
            }
            Scenarios s = new Scenarios(BootTrace.readCsv(trace), ChunkManifest.DEFAULT_CHUNK_SIZE, overheadMillis * 1e-3,
                    out, System.err);
            long t0 = System.nanoTime();
            if (all || "paper".equals(scenario)) {
                s.paper();
            }
            if (all || "scaling".equals(scenario)) {
                List<Strategy> st = new ArrayList<>();
                for (String n : scalingStrategies) {
                    st.add(Strategy.parse(n));
                }
                if (!List.of("debian", "windows").contains(scalingWorkload)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--scaling-workload: debian or windows");
                }
                s.scaling(maxHosts, st, "windows".equals(scalingWorkload));
            }
            if (all || "failures".equals(scenario)) {
                List<Strategy> st = List.of(Strategy.FLAT, Strategy.tree(2), Strategy.tree(4), Strategy.MULTI_PARENT);
                s.failures(100, 1, 20, st, false);
                s.failures(Math.min(maxHosts, 10_000), 10, 20, st, true);
            }
            System.err.printf(Locale.ROOT, "sim: plan done in %.1f s; tables and figures in %s%n",
                    (System.nanoTime() - t0) / 1e9, out.toAbsolutePath());
            if (Files.exists(out.resolve("paper.md"))) {
                spec.commandLine().getOut().print(Files.readString(out.resolve("paper.md")));
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }
}
