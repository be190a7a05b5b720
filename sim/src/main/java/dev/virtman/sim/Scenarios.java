package dev.virtman.sim;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.trace.BootTrace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The planning scenarios of docs/simulation.md: the paper's testbed, the scaling curve to 10,000
 * hosts, and 1 % host failures. Each writes its table (markdown) and figure (SVG) to a directory
 * and prints wall time and peak heap.
 */
public final class Scenarios {
    /** The paper's image: Windows Server 2008, 15 GB. */
    public static final long PAPER_IMAGE_BYTES = 15_000_000_000L;
    /**
     * Debian's boot reads 31 MiB; a Windows Server 2008 boot reads "a few hundred MB" (the
     * paper's predecessor). Every traced read ten times as long gives ~300 MB.
     */
    public static final double WINDOWS_SIZE_FACTOR = 10;
    /** Source disk: a RAID or SSD array; with 1 and 10 GbE the source's NIC is the tighter limit. */
    public static final double SOURCE_DISK = 1.0e9;
    public static final List<Strategy> STRATEGIES = List.of(Strategy.FULL_COPY, Strategy.FLAT, Strategy.tree(2),
            Strategy.tree(3), Strategy.tree(4), Strategy.tree(6), Strategy.tree(8), Strategy.MULTI_PARENT);

    private final Workload windows;
    /** The recorded Debian boot as is (40 MiB in chunks): the scaling curve's workload, 8x fewer events. */
    private final Workload debian;
    private final double overhead;
    private final Path out;
    private final BootTrace trace;
    private final PrintStream log;

    /**
     * @param trace    the recorded boot to scale (bench/traces/debian12-boot.csv)
     * @param overhead per-request overhead, seconds (measured: see docs/simulation.md)
     * @param out      where tables and figures go
     */
    public Scenarios(final BootTrace trace, final int chunkSize, final double overhead, final Path out,
                     final PrintStream log) throws IOException {
        BootTrace scaled = Workload.scaled(trace, WINDOWS_SIZE_FACTOR, PAPER_IMAGE_BYTES);
        this.windows = Workload.of("windows-like (debian12 x" + (int) WINDOWS_SIZE_FACTOR + ")", scaled, chunkSize, 1.0);
        this.debian = Workload.of("debian12", trace, chunkSize, 1.0);
        this.overhead = overhead;
        this.trace = trace;
        this.out = Files.createDirectories(out);
        this.log = log;
    }

    public Workload workload() {
        return windows;
    }

    private Scenario base(final int hosts, final double gbit) {
        return base(hosts, gbit, windows);
    }

    private Scenario base(final int hosts, final double gbit, final Workload w) {
        return new Scenario(hosts, 10, w, PAPER_IMAGE_BYTES, NetworkModel.ethernet(gbit, SOURCE_DISK, overhead),
                Strategy.FLAT, false, 0, 0, 1, FetchPolicy.DEFAULT, ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL,
                ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT);
    }

    private SimResult run(final Scenario s, final String label) {
        SimRunner.resetPeakHeap();
        SimResult r = new BootStormSim(s).run();
        log.printf(Locale.ROOT, "sim: %-28s %5d×%-2d p50 %8s s  p99 %8s s  source %8.2f GB  %9d events  %6.1f s wall"
                        + "  peak heap %4d MiB%s%n", label, s.hosts(), s.vmsPerHost(), SimReport.seconds(r.p50()),
                SimReport.seconds(r.p99()), r.sourceBytes() / 1e9, r.events(), r.wallSeconds(),
                SimRunner.peakHeapBytes() >> 20, r.notes().isEmpty() ? "" : "  (" + r.notes() + ")");
        return r;
    }

    private static SimResult relabel(final SimResult r, final String label) {
        return new SimResult(label, r.hosts(), r.vmsPerHost(), r.bootSeconds(), r.lostVms(), r.failedVms(),
                r.unfinishedVms(), r.sourceBytes(), r.bytesPerLevel(), r.treeDepth(), r.fetches(), r.requests(), r.failedAttempts(),
                r.maxFetchSeconds(), r.sourceBusySeconds(), r.testbedCpuSeconds(), r.events(), r.wallSeconds(), r.notes());
    }

    /** (b) 100 hosts × 10 VMs, 15 GB, ~300 MB working set, 1 GbE: every strategy, cold and with a boot profile. */
    public List<SimResult> paper() throws IOException {
        log.println("sim: paper scenario: " + windows);
        List<SimResult> results = new ArrayList<>();
        SvgPlot cdf = new SvgPlot("Paper testbed: 100 hosts × 10 VMs, 15 GB image, 1 GbE (simulated)",
                "seconds from the storm's start (log)", "fraction of VMs booted", true, false);
        for (Strategy st : STRATEGIES) {
            SimResult r = run(base(100, 1).withStrategy(st), st.label());
            results.add(r);
            cdf.addCdf(st.label(), r.bootSeconds());
            if (st.kind() != Strategy.Kind.FULL_COPY) {
                SimResult p = run(base(100, 1).withStrategy(st).withPrefetch(true), st.label() + " +prefetch");
                results.add(relabel(p, st.label() + " + profile prefetch"));
            }
        }
        List<SimResult> floor = new ArrayList<>();
        Workload noThink = Workload.of(windows.name() + ", no think time", Workload.scaled(trace, WINDOWS_SIZE_FACTOR,
                PAPER_IMAGE_BYTES), windows.chunkSize(), 0);
        for (Strategy st : STRATEGIES) {
            floor.add(run(base(100, 1, noThink).withStrategy(st), st.label() + " back-to-back"));
        }
        SimResult lone = run(new Scenario(1, 1, windows, PAPER_IMAGE_BYTES, base(1, 1).network(), Strategy.FLAT, false,
                0, 0, 1, FetchPolicy.DEFAULT, ManagerConfig.DEFAULT_HEARTBEAT_INTERVAL,
                ManagerConfig.DEFAULT_HEARTBEAT_TIMEOUT), "lone VM");
        Files.writeString(out.resolve("paper.svg"), cdf.render());
        Files.writeString(out.resolve("paper.md"), "Lone VM, same network: " + SimReport.seconds(lone.max())
                + " s (the trace's own duration: " + SimReport.seconds(windows.durationSeconds()) + " s).\n\n"
                + SimReport.table(results) + "\nThe same reads back to back (no think time: the network-bound floor):\n\n"
                + SimReport.table(floor));
        return results;
    }

    /**
     * (c) hosts 10 → {@code maxHosts} × 10 VMs on 10 GbE: completion and source load per strategy,
     * with the recorded Debian boot or ({@code windowsLike}) the paper scenario's larger one; the
     * latter's files are named {@code scaling-windows-*}.
     */
    public List<SimResult> scaling(final int maxHosts, final List<Strategy> strategies, final boolean windowsLike)
            throws IOException {
        Workload w = windowsLike ? windows : debian;
        String prefix = windowsLike ? "scaling-windows" : "scaling";
        log.println("sim: scaling, " + w);
        List<Integer> sizes = new ArrayList<>();
        for (int h = 10; h <= maxHosts; h *= 10) {
            sizes.add(h);
            if (h * 3 <= maxHosts) {
                sizes.add(h * 3);
            }
        }
        List<SimResult> results = new ArrayList<>();
        String boot = windowsLike ? "Windows-like boot" : "Debian boot";
        SvgPlot time = new SvgPlot("Scaling on 10 GbE, 10 VMs per host, " + boot + " (simulated)", "hosts (log)",
                "p99 boot completion, s (log)", true, true);
        SvgPlot load = new SvgPlot("Source load on 10 GbE, 10 VMs per host, " + boot + " (simulated)", "hosts (log)",
                "bytes the source sent, GB (log)", true, true);
        for (Strategy st : strategies) {
            double[] xs = new double[sizes.size()];
            double[] p99 = new double[sizes.size()];
            double[] src = new double[sizes.size()];
            for (int i = 0; i < sizes.size(); i++) {
                SimResult r = run(base(sizes.get(i), 10, w).withStrategy(st), st.label());
                results.add(r);
                xs[i] = sizes.get(i);
                p99[i] = r.completed() == 0 ? Double.NaN : r.p99();
                src[i] = r.sourceBytes() / 1e9;
            }
            time.add(st.label(), xs, p99);
            load.add(st.label(), xs, src);
        }
        Files.writeString(out.resolve(prefix + "-time.svg"), time.render());
        Files.writeString(out.resolve(prefix + "-source.svg"), load.render());
        Files.writeString(out.resolve(prefix + ".md"), SimReport.table(results));
        return results;
    }

    /** (d) 1 % of hosts die {@code at} seconds into the storm, with and without. */
    public List<SimResult> failures(final int hosts, final double gbit, final double at, final List<Strategy> strategies,
                                    final boolean recordedTrace) throws IOException {
        List<SimResult> results = new ArrayList<>();
        Workload w = recordedTrace ? debian : windows;
        log.println("sim: failures, " + hosts + " hosts, " + w);
        for (Strategy st : strategies) {
            results.add(run(base(hosts, gbit, w).withStrategy(st), st.label()));
            SimResult f = run(base(hosts, gbit, w).withStrategy(st).withFailures(0.01, at), st.label() + " +1% fail");
            results.add(relabel(f, st.label() + " + 1% hosts fail at " + (int) at + " s"));
        }
        Files.writeString(out.resolve("failures-" + hosts + ".md"), SimReport.table(results)
                + "\n" + notes(results));
        return results;
    }

    private static String notes(final List<SimResult> results) {
        StringBuilder b = new StringBuilder();
        for (SimResult r : results) {
            if (!r.notes().isEmpty()) {
                b.append("- ").append(r.strategy()).append(": ").append(r.notes()).append(" failed attempts ")
                        .append(r.failedAttempts()).append('\n');
            }
        }
        return b.toString();
    }
}
