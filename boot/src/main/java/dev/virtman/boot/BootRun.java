package dev.virtman.boot;

import dev.virtman.vm.BootSource;
import dev.virtman.vm.VmDriver;
import dev.virtman.vm.VmHandle;
import dev.virtman.vm.VmPhase;
import dev.virtman.vm.VmSpec;
import dev.virtman.vm.VmState;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots {@code count} VMs over the hosts' agents (VM i on host i mod hosts): one copy-on-write
 * overlay per VM over its host agent's iSCSI export, all launched at once, each tracked until its
 * guest prints the up marker or the timeout kills it.
 */
public final class BootRun {
    private static final Logger LOG = LoggerFactory.getLogger(BootRun.class);
    private static final Duration STATUS_PERIOD = Duration.ofMillis(500);

    private final BootHosts cluster;
    private final IntFunction<VmDriver> drivers;
    private final ProgressSink progress;

    /** VMs of every host run under one local driver (the embedded default: all hosts are this machine). */
    public BootRun(final BootHosts cluster, final VmDriver driver, final ProgressSink progress) {
        this(cluster, host -> driver, progress);
    }

    /** VMs of host {@code i} run under {@code drivers.apply(i)} (remote hosts: one agent driver each). */
    public BootRun(final BootHosts cluster, final IntFunction<VmDriver> drivers, final ProgressSink progress) {
        this.cluster = cluster;
        this.drivers = drivers;
        this.progress = progress;
    }

    /** Per-VM settings shared by every VM of the boot. */
    public record Settings(int count, String namePrefix, BootSource boot, int memoryMiB, String upMarker,
                           Duration timeout) {
        public Settings {
            if (count < 1) {
                throw new IllegalArgumentException("--count must be at least 1");
            }
        }
    }

    /**
     * Creates and boots the VMs; {@code onCreated} learns them before any is launched, so that
     * an interrupted boot can clean up after itself.
     */
    public BootOutcome run(final Settings settings, final Instant started, final Consumer<List<VmBoot>> onCreated)
            throws InterruptedException {
        long sourceBefore = cluster.sourceBytesServed();
        long fetchedBefore = cluster.bytesFetchedByAgents();
        List<VmBoot> vms = new ArrayList<>();
        for (int i = 0; i < settings.count(); i++) {
            int host = i % cluster.hostCount();
            String name = settings.namePrefix() + "-" + (i + 1);
            VmSpec spec = new VmSpec(name, settings.boot(), settings.memoryMiB(), 1,
                    VmSpec.OverlayDisk.over(cluster.exportUrl(host)), settings.upMarker());
            vms.add(new VmBoot(host, cluster.hostId(host), drivers.apply(host).create(spec)));
            progress.status(String.format(Locale.ROOT, "creating overlays: %d/%d", i + 1, settings.count()));
        }
        onCreated.accept(List.copyOf(vms));
        Instant launched = Instant.now();
        CountDownLatch done = new CountDownLatch(vms.size());
        for (VmBoot v : vms) {
            Thread.ofVirtual().name("boot-" + v.vm().name()).start(() -> {
                try {
                    drivers.apply(v.host()).boot(v.vm(), settings.timeout());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    // the driver has already marked the VM FAILED with the reason
                    LOG.warn("VM {} did not boot: {}", v.vm().name(), e.getMessage());
                } finally {
                    done.countDown();
                }
            });
        }
        while (!done.await(STATUS_PERIOD.toMillis(), TimeUnit.MILLISECONDS)) {
            progress.status(statusLine(vms, launched, sourceBefore));
        }
        progress.status(statusLine(vms, launched, sourceBefore));
        cluster.collectPhases(vms);
        return new BootOutcome(started, launched, vms, cluster.imageBytes(),
                cluster.sourceBytesServed() - sourceBefore, cluster.bytesFetchedByAgents() - fetchedBefore);
    }

    private String statusLine(final List<VmBoot> vms, final Instant launched, final long sourceBefore) {
        Map<VmState, Integer> counts = new EnumMap<>(VmState.class);
        for (VmBoot v : vms) {
            counts.merge(displayState(v.vm()), 1, Integer::sum);
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "[%5.1fs] ",
                Duration.between(launched, Instant.now()).toMillis() / 1000.0));
        counts.forEach((state, n) -> line.append(n).append(' ').append(state.name().toLowerCase(Locale.ROOT)).append("  "));
        line.append("| source served ").append(Bytes.human(cluster.sourceBytesServed() - sourceBefore));
        return line.toString();
    }

    /** A guest that came up counts as up even if it then powered itself off (the demo guest does). */
    private static VmState displayState(final VmHandle vm) {
        return vm.timeline().at(VmPhase.GUEST_UP).isPresent() ? VmState.UP : vm.state();
    }
}
