package dev.virtman.bench.storm;

import dev.virtman.block.BlockDevice;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.trace.BootTrace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;

/**
 * Runs the emulated VMs of one strategy against a started {@link StormCluster}: every VM opens
 * its own iSCSI session to its host's export at the storm's start and replays the trace; faults
 * are injected on a schedule while they run. One virtual thread per VM.
 */
public final class StormRun {
    private static final int MAX_ERRORS_KEPT = 5;
    private static final Duration PROGRESS_PERIOD = Duration.ofSeconds(2);
    private static final int VM_MAX_REISSUES = 20;
    /** Initiator names of the emulated VMs (a VM's name follows); {@link VmCpuMeter} finds their readers by it. */
    static final String VM_INITIATOR_PREFIX = InitiatorOptions.DEFAULT_NAME_PREFIX + "vm-";
    private static final Duration VM_RECOVERY_TIMEOUT = Duration.ofSeconds(120);
    /** How often the manager's host states are sampled, to name every host it declared failed. */
    private static final Duration FAILED_SAMPLE_PERIOD = Duration.ofMillis(250);

    private final BootTrace trace;
    private final double timeScale;
    private final Path image;
    private final PrintStream progress;

    public StormRun(final BootTrace trace, final double timeScale, final Path image, final PrintStream progress) {
        this.trace = trace;
        this.timeScale = timeScale;
        this.image = image;
        this.progress = progress;
    }

    /** A fault injected after a delay from the storm's start; {@code notes} collects what it did. */
    public interface Fault {
        void inject(StormCluster cluster, List<String> notes) throws Exception;
    }

    /** Options of the VMs' initiator: patient enough to ride out an agent being killed and revived. */
    static InitiatorOptions vmInitiator(final String vm) {
        InitiatorOptions d = InitiatorOptions.defaults();
        return new InitiatorOptions(VM_INITIATOR_PREFIX + vm, null, d.connectTimeout(),
                d.loginTimeout(), d.commandTimeout(), VM_RECOVERY_TIMEOUT, d.keepAliveInterval(),
                d.keepAliveTimeout(), false, false, d.maxRecvDataSegmentLength(), d.maxReadBytes(), VM_MAX_REISSUES);
    }

    /** Runs {@code vmsPerHost} VMs on every host of {@code cluster}, with {@code fault} (or none) at {@code faultAt}. */
    public StrategyResult run(final String strategy, final StormCluster cluster, final int vmsPerHost,
                              final Fault fault, final Duration faultAt) throws IOException, InterruptedException {
        List<String> notes = Collections.synchronizedList(new ArrayList<>());
        Thread faults = null;
        long start = System.nanoTime();
        long cpuStart = CpuClock.processCpuNanos();
        StrategyEvent window = new StrategyEvent();
        window.strategy = strategy;
        window.begin();
        if (fault != null) {
            faults = Thread.ofVirtual().name("storm-fault").start(() -> {
                try {
                    Thread.sleep(faultAt);
                    fault.inject(cluster, notes);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    notes.add("fault injection failed: " + e);
                }
            });
        }
        java.util.Set<String> declaredFailed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread failedSampler = Thread.ofVirtual().name("storm-failed-hosts").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                declaredFailed.addAll(cluster.failedHostIds());
                try {
                    Thread.sleep(FAILED_SAMPLE_PERIOD);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        List<EmulatedVm.Result> results;
        long peak;
        long peakRss;
        VmCpuMeter vmCpu = VmCpuMeter.start();
        try (HeapSampler heap = new HeapSampler()) {
            AtomicInteger loginRetries = new AtomicInteger();
            results = replayAll(strategy, cluster.hosts(), vmsPerHost,
                    (host, vm) -> PatientLogin.open(
                            () -> IscsiBlockDevice.open(IscsiUrl.parse(cluster.exportUrl(host)), vmInitiator(vm)),
                            e -> loginRetries.incrementAndGet()),
                    start, cluster::sourceBytesServed, heap, vmCpu);
            if (loginRetries.get() > 0) {
                notes.add("VM logins retried (open-iscsi's initial login retries): " + loginRetries.get());
            }
            if (faults != null) {
                faults.join();
            }
            peak = heap.peakBytes();
            peakRss = heap.peakRssBytes();
        } finally {
            vmCpu.close();
        }
        failedSampler.interrupt();
        failedSampler.join();
        declaredFailed.addAll(cluster.failedHostIds());
        double cpu = CpuClock.secondsSince(cpuStart);
        double wall = (System.nanoTime() - start) / 1e9;
        window.commit();
        long failures = cluster.hostFailures();
        notes.add("hosts the manager declared failed during the run: " + (failures < 0 ? "unknown" : failures)
                + " (seen failed: " + new java.util.TreeSet<>(declaredFailed) + ")");
        java.util.Set<Integer> faulted = cluster.faultedHosts();
        if (!faulted.isEmpty()) {
            List<Double> others = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                EmulatedVm.Result r = results.get(i);
                if (r.error() == null && !faulted.contains(i / vmsPerHost)) {
                    others.add(r.seconds());
                }
            }
            Collections.sort(others);
            double p99 = others.isEmpty() ? Double.NaN
                    : others.get(Math.max(0, (int) Math.ceil(0.99 * others.size()) - 1));
            notes.add(String.format(java.util.Locale.ROOT, "VMs on the %d hosts not killed or frozen (they lost"
                    + " parents, not their own disk): %d, p99 %.2f s", cluster.hosts() - faulted.size(),
                    others.size(), p99));
        }
        double[] hedges = cluster.hedges();
        notes.add(String.format(java.util.Locale.ROOT, "hedged fetches: %.0f sent, %.0f won, %.0f refused by the budget"
                + " (agents running at the end)", hedges[0], hedges[1], hedges[2]));
        long[] fetched = cluster.bytesFetchedPerHost();
        Map<String, Integer> depths = cluster.depths();
        Map<Integer, Long> perLevel = new TreeMap<>();
        for (int h = 0; h < cluster.hosts(); h++) {
            perLevel.merge(depths.getOrDefault(cluster.hostId(h), 0), fetched[h], Long::sum);
        }
        return summarize(strategy, cluster.hosts(), vmsPerHost, results, cluster.sourceBytesServed(), perLevel,
                cluster.cacheHitRatio(), peak, peakRss, cpu, vmCpu, wall, notes);
    }

    /** Opens one VM's disk. */
    @FunctionalInterface
    interface DiskOpener {
        BlockDevice open(int host, String vm) throws IOException, InterruptedException;
    }

    List<EmulatedVm.Result> replayAll(final String strategy, final int hosts, final int vmsPerHost,
                                      final DiskOpener opener, final long start,
                                      final LongSupplier sourceBytes, final HeapSampler heap,
                                      final VmCpuMeter vmCpu)
            throws IOException, InterruptedException {
        AtomicInteger done = new AtomicInteger();
        int total = hosts * vmsPerHost;
        List<EmulatedVm.Result> results = new ArrayList<>();
        ReferenceImage reference = ReferenceImage.map(image);
        try (// Platform threads, not virtual: only they have a CPU clock, which splits the VMs'
             // cost (part of the bench) from VirtMan's (VmCpuMeter). They sleep between reads.
             ExecutorService vms = Executors.newThreadPerTaskExecutor(
                     Thread.ofPlatform().daemon().name("storm-vm-", 1).factory())) {
            List<Future<EmulatedVm.Result>> futures = new ArrayList<>();
            for (int h = 0; h < hosts; h++) {
                for (int v = 0; v < vmsPerHost; v++) {
                    int host = h;
                    String name = "h" + (h + 1) + "-vm" + (v + 1);
                    EmulatedVm vm = new EmulatedVm(name, trace, timeScale, reference);
                    futures.add(vms.submit(() -> {
                        try (BlockDevice disk = opener.open(host, name)) {
                            EmulatedVm.Result r = vm.replay(disk, start);
                            vmCpu.addReplayNanos(r.cpuNanos());
                            return r;
                        } catch (IOException | RuntimeException e) {
                            return new EmulatedVm.Result(name, start, System.nanoTime(), 0, 0, "open: " + e);
                        } finally {
                            done.incrementAndGet();
                        }
                    }));
                }
            }
            Thread reporter = Thread.ofVirtual().start(() -> {
                while (done.get() < total) {
                    try {
                        Thread.sleep(PROGRESS_PERIOD);
                    } catch (InterruptedException e) {
                        return;
                    }
                    progress.printf("  [%s] %6.1fs  %d/%d VMs done  source %s  heap %s%n", strategy,
                            (System.nanoTime() - start) / 1e9, done.get(), total,
                            StormReport.bytes(sourceBytes.getAsLong()),
                            StormReport.bytes(heap.peakBytes()));
                }
            });
            for (Future<EmulatedVm.Result> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException e) {
                    throw new IOException("VM task failed: " + e.getCause(), e.getCause());
                }
            }
            reporter.interrupt();
        }
        return results;
    }

    StrategyResult summarize(final String strategy, final int hosts, final int vmsPerHost,
                             final List<EmulatedVm.Result> results, final long sourceBytes,
                             final Map<Integer, Long> perLevel, final double hitRatio, final long peakHeap,
                             final long peakRss, final double cpuSeconds, final VmCpuMeter vmCpu,
                             final double wallSeconds, final List<String> notes) {
        List<Double> seconds = new ArrayList<>();
        int failed = 0;
        long mismatched = 0;
        long verified = 0;
        LinkedHashSet<String> errors = new LinkedHashSet<>();
        for (EmulatedVm.Result r : results) {
            mismatched += r.mismatchedBytes();
            verified += r.bytesRead();
            if (r.error() == null) {
                seconds.add(r.seconds());
            } else {
                failed++;
                if (errors.size() < MAX_ERRORS_KEPT) {
                    errors.add(r.vm() + ": " + r.error());
                }
            }
        }
        Collections.sort(seconds);
        return new StrategyResult(strategy, hosts, vmsPerHost, seconds, failed, mismatched, verified, sourceBytes,
                perLevel, hitRatio, peakHeap, peakRss, cpuSeconds,
                new StrategyResult.CpuSplit(vmCpu.replaySeconds(), vmCpu.readerSeconds(), vmCpu.ownSeconds()),
                wallSeconds, List.copyOf(errors), List.copyOf(notes));
    }
}
