package dev.virtman.bench.storm;

import dev.virtman.trace.BootTrace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Stream;
import java.util.List;
import java.util.Locale;

/**
 * The whole boot-storm benchmark: the lone-VM replay, the tree storm, the flat-lazy and
 * full-copy baselines, then the fault variants, each on fresh (cold) caches, all in this run.
 */
public final class StormBench {
    /** Killed agents come back after this long, as under a supervisor's restart delay. */
    private static final Duration REVIVE_AFTER = Duration.ofSeconds(2);
    private static final Duration MANAGER_DOWN = Duration.ofSeconds(2);
    /** Faults strike this far into the (scaled) trace, when the storm is at its busiest. */
    private static final double FAULT_AT_FRACTION = 0.3;
    private static final Duration MIN_FAULT_AT = Duration.ofMillis(500);

    private final StormSettings settings;
    private final BootTrace trace;
    private final Path workDir;
    private final PrintStream progress;
    private boolean warmUpStorm;

    public StormBench(final StormSettings settings, final BootTrace trace, final Path workDir,
                      final PrintStream progress) {
        this.settings = settings;
        this.trace = trace;
        this.workDir = workDir;
        this.progress = progress;
    }

    /** Also runs a discarded fault-free tree storm of the full size, at time scale 0, before the measured ones. */
    public StormBench warmUpStorm(final boolean on) {
        this.warmUpStorm = on;
        return this;
    }

    public List<StrategyResult> run() throws IOException, InterruptedException {
        progress.printf("storm: writing the %s image for %s%n", StormReport.bytes(settings.imageBytes()),
                settings.trace());
        StormImage image = StormImage.create(workDir.resolve("storm.img"), trace, settings.imageBytes());
        StormRun replay = new StormRun(trace, settings.timeScale(), image.path(), progress);
        List<StrategyResult> results = new ArrayList<>();
        // The first run in a JVM pays for class loading and JIT; a discarded lone run, replayed as
        // fast as it goes (time scale 0), takes that cost.
        tree("warm-up", image, new StormRun(trace, 0, image.path(), progress), 1, 1, settings.fanOut(), null);
        if (warmUpStorm) {
            // The first full-size storm of a JVM was the slowest every time (issue 19 runs B-D: 110-188 s
            // against 62-110 s for the same storm later), so a fault run compared with a fault-free tree
            // that ran first was measured against a handicapped baseline. A discarded tree storm of the
            // full size, as fast as it goes, takes that cost (JIT of 200 sessions' paths, pools, caches).
            tree("warm-up-storm", image, new StormRun(trace, 0, image.path(), progress), settings.hosts(),
                    settings.vmsPerHost(), settings.fanOut(), null);
        }
        results.add(tree("lone", image, replay, 1, 1, settings.fanOut(), null));
        if (settings.unhedgedBaseline() && settings.unhedgedFirst()) {
            results.add(tree("tree-unhedged", image, replay, settings.hosts(), settings.vmsPerHost(),
                    settings.fanOut(), null, false));
        }
        results.add(tree("tree", image, replay, settings.hosts(), settings.vmsPerHost(), settings.fanOut(), null));
        if (settings.unhedgedBaseline() && !settings.unhedgedFirst()) {
            results.add(tree("tree-unhedged", image, replay, settings.hosts(), settings.vmsPerHost(),
                    settings.fanOut(), null, false));
        }
        if (settings.flat()) {
            results.add(tree("flat", image, replay, settings.hosts(), settings.vmsPerHost(), settings.hosts(), null));
        }
        if (settings.fullCopyHosts() > 0) {
            progress.printf("storm: full-copy baseline, %d hosts × %d VMs%n", settings.fullCopyHosts(),
                    settings.vmsPerHost());
            String imageId = "storm-full-copy";
            results.add(new FullCopyRun(replay, image, settings.linkBytesPerSecond(), progress)
                    .run(workDir.resolve("full-copy"), imageId, settings.fullCopyHosts(), settings.vmsPerHost()));
        }
        if (settings.killInterior() > 0) {
            results.add(tree("tree+kill", image, replay, settings.hosts(), settings.vmsPerHost(), settings.fanOut(),
                    this::killInterior));
        }
        if (settings.freezeInterior() > 0) {
            results.add(tree("tree+freeze", image, replay, settings.hosts(), settings.vmsPerHost(), settings.fanOut(),
                    this::freezeInterior));
        }
        if (settings.restartManager()) {
            results.add(tree("tree+manager-restart", image, replay, settings.hosts(), settings.vmsPerHost(),
                    settings.fanOut(), (cluster, notes) -> {
                        long t0 = System.nanoTime();
                        cluster.restartManager(MANAGER_DOWN);
                        notes.add(String.format(Locale.ROOT, "manager stopped and restarted on its state dir and port"
                                + " (down %.1f s)", (System.nanoTime() - t0) / 1e9));
                    }));
        }
        return results;
    }

    private StrategyResult tree(final String strategy, final StormImage image, final StormRun replay,
                                final int hosts, final int vmsPerHost, final int fanOut, final StormRun.Fault fault)
            throws IOException, InterruptedException {
        return tree(strategy, image, replay, hosts, vmsPerHost, fanOut, fault, true);
    }

    private StrategyResult tree(final String strategy, final StormImage image, final StormRun replay,
                                final int hosts, final int vmsPerHost, final int fanOut, final StormRun.Fault fault,
                                final boolean hedging)
            throws IOException, InterruptedException {
        progress.printf("storm: %s, %d hosts × %d VMs, fan-out %d: starting manager, source, agents%n", strategy,
                hosts, vmsPerHost, fanOut);
        Path dir = workDir.resolve(strategy.replace('+', '-'));
        List<Integer> profile = settings.bootProfile() ? firstReadOrder(trace, settings.chunkSize()) : null;
        try (StormCluster cluster = StormCluster.start(dir, image, hosts, fanOut, settings.chunkSize(),
                settings.linkBytesPerSecond(), profile, hedging)) {
            progress.printf("storm: %s: %d agents placed; VMs start%n", strategy, hosts);
            StrategyResult r = replay.run(strategy, cluster, vmsPerHost, fault, faultAt());
            progress.printf("storm: %s: %d/%d VMs booted, %d failed, %d mismatched bytes, p50 %.2f s, max %.2f s,"
                            + " source %s%n", strategy, r.bootSeconds().size(), r.vms(), r.failedVms(),
                    r.mismatchedBytes(), r.quantile(0.5), r.max(), StormReport.bytes(r.sourceBytes()));
            return r;
        } finally {
            // 100 hosts' caches hold 4 GB; the next strategy starts cold on its own directory anyway.
            deleteTree(dir);
        }
    }

    /**
     * The boot profile a first boot of {@code trace} records: the chunks it reads, in the order
     * of their first read ({@code BootProfileRecorder} keeps the same order).
     */
    static List<Integer> firstReadOrder(final BootTrace trace, final int chunkSize) {
        Set<Integer> order = new LinkedHashSet<>();
        for (BootTrace.Read r : trace.reads()) {
            for (long c = r.offset() / chunkSize; c <= (r.end() - 1) / chunkSize; c++) {
                order.add(Math.toIntExact(c));
            }
        }
        return List.copyOf(order);
    }

    private static void deleteTree(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Duration faultAt() {
        long nanos = (long) (trace.durationSeconds() * settings.timeScale() * FAULT_AT_FRACTION * 1e9);
        Duration at = Duration.ofNanos(nanos);
        return at.compareTo(MIN_FAULT_AT) < 0 ? MIN_FAULT_AT : at;
    }

    /** The first {@code fraction} of the interior agents, breadth-first. */
    private static List<Integer> victims(final StormCluster cluster, final double fraction) {
        List<Integer> interior = cluster.interiorHosts();
        int count = (int) Math.ceil(interior.size() * fraction);
        return List.copyOf(interior.subList(0, Math.min(count, interior.size())));
    }

    /**
     * Freezes a fraction of the interior agents at once (connections stay open, nothing is
     * answered, no heartbeats), then thaws them: the silent fault, beside {@link #killInterior}'s close.
     */
    private void freezeInterior(final StormCluster cluster, final List<String> notes) throws Exception {
        int interior = cluster.interiorHosts().size();
        List<Integer> victims = victims(cluster, settings.freezeInterior());
        List<String> names = victims.stream().map(cluster::hostId).toList();
        for (int host : victims) {
            cluster.freeze(host);
        }
        long ms = Math.round(settings.freezeSeconds() * 1000);
        notes.add("froze " + victims.size() + " of " + interior + " interior agents " + names
                + " (connections open, nothing answered, no heartbeats); thawed after " + ms + " ms");
        Thread.sleep(ms);
        for (int host : victims) {
            cluster.thaw(host);
        }
    }

    /** Kills a fraction of the interior agents at once, then revives them after a delay. */
    private void killInterior(final StormCluster cluster, final List<String> notes) throws Exception {
        List<Integer> interior = cluster.interiorHosts();
        int count = (int) Math.ceil(interior.size() * settings.killInterior());
        List<Integer> victims = interior.subList(0, Math.min(count, interior.size()));
        List<String> names = victims.stream().map(cluster::hostId).toList();
        for (int host : victims) {
            cluster.kill(host);
        }
        notes.add("killed " + victims.size() + " of " + interior.size() + " interior agents " + names
                + " without goodbye; revived after " + REVIVE_AFTER.toMillis() + " ms on the same address and cache");
        Thread.sleep(REVIVE_AFTER);
        for (int host : victims) {
            cluster.revive(host);
        }
    }
}
