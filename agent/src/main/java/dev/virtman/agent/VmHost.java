package dev.virtman.agent;

import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmReport;
import dev.virtman.manager.api.VmSyncReply;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.vm.BootSource;
import dev.virtman.vm.VmDriver;
import dev.virtman.vm.VmHandle;
import dev.virtman.vm.VmPhase;
import dev.virtman.vm.VmSpec;
import dev.virtman.vm.VmState;
import dev.virtman.vm.VmTimeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs the VMs the manager orders on this host: every sync period the agent reports its VMs
 * ({@code POST /v1/hosts/{id}/vm-sync}) and gets back all orders for the host, then converges:
 * a {@code running} order it does not know yet gets a qcow2 overlay over this agent's own export
 * of the image and is booted by the {@link VmDriver}; {@code stopped} powers it down;
 * {@code destroyed} kills it and deletes its directory.
 *
 * <p>Why a pull and not an endpoint on the agent: the agent already reaches the manager (for
 * heartbeats), so VMs need no second listener, port, credential or firewall rule, and the boot
 * needs nothing but the manager. Orders are level-triggered, so a lost sync is repaired by the
 * next. A VM no order mentions (the manager restarted) is left running, never destroyed.
 *
 * <p>Each VM logs in to the export under its own initiator name ({@link VmSpec#initiatorName()}),
 * so its report carries the FIRST_READ phase from the export's {@link FirstReads}. Phases are
 * this host's clock in epoch milliseconds.
 */
public final class VmHost implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(VmHost.class);
    public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(1);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final ManagerClient client;
    private final String hostId;
    private final Agent agent;
    private final VmDriver driver;
    private final Map<String, Hosted> vms = new ConcurrentHashMap<>();
    private final ScheduledExecutorService syncs;

    /** One VM of this host: its order, and its handle once the overlay exists. */
    private static final class Hosted {
        final VmOrder order;
        volatile VmHandle vm;
        volatile String failure;
        volatile boolean stopping;
        volatile boolean destroying;

        Hosted(final VmOrder order) {
            this.order = order;
        }
    }

    /** Images with at least one VM that came up on this host. */
    private final java.util.Set<String> bootedImages = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private VmHost(final ManagerClient client, final String hostId, final Agent agent, final VmDriver driver) {
        this.client = client;
        this.hostId = hostId;
        this.agent = agent;
        this.driver = driver;
        this.syncs = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("vm-sync").factory());
    }

    /** Starts syncing with the manager every {@code interval}. */
    public static VmHost start(final ManagerClient client, final String hostId, final Agent agent,
                               final VmDriver driver, final Duration interval) {
        VmHost host = new VmHost(client, hostId, agent, driver);
        host.syncs.scheduleWithFixedDelay(host::syncQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return host;
    }

    private void syncQuietly() {
        try {
            sync();
        } catch (RuntimeException e) {
            LOG.warn("VM sync with the manager failed: {}", e.toString());
        }
    }

    /** One round: report, then converge on the orders. */
    void sync() {
        VmSyncReply reply = client.vmSync(hostId, new VmSyncRequest(reports(), fetches()));
        for (VmOrder order : reply.orders()) {
            apply(order);
        }
    }

    /**
     * The initiator names of the VMs this host runs (or is about to) over image {@code imageId}:
     * the export admits them ({@link ExportAdmission}).
     */
    java.util.Set<String> initiators(final String imageId) {
        java.util.Set<String> out = new java.util.HashSet<>();
        vms.values().forEach(h -> {
            if (h.order.imageId().equals(imageId) && !h.destroying) {
                out.add(VmSpec.initiatorNameOf(h.order.name()));
            }
        });
        return out;
    }

    /** Runs when the set of VMs changes, before a new VM logs in (the exports admit it first). */
    void onVmsChanged(final Runnable listener) {
        this.vmsChanged = listener;
    }

    private volatile Runnable vmsChanged = () -> { };

    private void apply(final VmOrder order) {
        Hosted h = vms.get(order.name());
        switch (order.desired()) {
            case VmOrder.RUNNING -> {
                if (h == null) {
                    Hosted fresh = new Hosted(order);
                    vms.put(order.name(), fresh);
                    vmsChanged.run();
                    Thread.ofVirtual().name("vm-" + order.name()).start(() -> launch(fresh));
                }
            }
            case VmOrder.STOPPED -> {
                if (h != null && h.vm != null && !h.stopping && !h.vm.state().isTerminal()) {
                    h.stopping = true;
                    Thread.ofVirtual().name("vm-stop-" + order.name()).start(() -> driver.stop(h.vm, STOP_GRACE));
                }
            }
            case VmOrder.DESTROYED -> {
                if (h != null && !h.destroying) {
                    h.destroying = true;
                    Thread.ofVirtual().name("vm-destroy-" + order.name()).start(() -> destroy(h));
                }
            }
            default -> LOG.warn("VM {}: unknown desired state {}", order.name(), order.desired());
        }
    }

    private void launch(final Hosted h) {
        VmOrder o = h.order;
        try {
            ImageExport export = export(o.imageId()).orElseThrow(() -> new IllegalStateException(
                    "this agent does not serve image " + o.imageId() + " (start it with --managed-image)"));
            BootSource boot = o.kernel() == null ? new BootSource.DiskBoot()
                    : new BootSource.DirectKernel(Path.of(o.kernel()), Path.of(o.initrd()),
                    o.append() == null ? "" : o.append());
            VmSpec spec = new VmSpec(o.name(), boot, o.memoryMiB(), 1,
                    new VmSpec.OverlayDisk(agent.exportUrl(export.name()), OptionalLong.of(export.manifest().imageSize())),
                    o.upMarker());
            export.firstReads().forget(spec.initiatorName());
            h.vm = driver.create(spec);
            if (h.destroying) {
                return;
            }
            driver.boot(h.vm, Duration.ofSeconds(o.timeoutSeconds()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // the driver has marked a VM it created FAILED with the reason; this covers the rest
            h.failure = e.getMessage();
            LOG.warn("VM {} did not boot: {}", o.name(), e.getMessage());
        }
    }

    private void destroy(final Hosted h) {
        VmHandle vm = h.vm;
        try {
            if (vm != null) {
                driver.destroy(vm);
            }
        } catch (RuntimeException e) {
            LOG.warn("VM {}: destroy failed: {}", h.order.name(), e.getMessage());
        } finally {
            vms.remove(h.order.name(), h);
        }
    }

    private Optional<ImageExport> export(final String imageId) {
        return agent.images().stream().filter(i -> i.manifest().imageIdHex().equals(imageId)).findFirst();
    }

    /**
     * Whether a VM of {@code imageId} has come up on this host (its guest printed the up marker),
     * as of the last VM sync: only such a boot's reads make a boot profile.
     */
    public boolean bootedUp(final String imageId) {
        return bootedImages.contains(imageId);
    }

    List<VmReport> reports() {
        List<VmReport> out = new ArrayList<>();
        for (Hosted h : vms.values()) {
            VmHandle vm = h.vm;
            if (vm == null) {
                out.add(new VmReport(h.order.name(), h.order.imageId(), h.failure != null ? VmState.FAILED.name()
                        : VmState.CREATED.name(), Map.of(), null, h.failure));
                continue;
            }
            export(h.order.imageId()).flatMap(e -> e.firstReads().of(vm.spec().initiatorName()))
                    .ifPresent(t -> vm.recordPhaseAt(VmPhase.FIRST_READ, t));
            VmTimeline tl = vm.timeline();
            if (tl.at(VmPhase.GUEST_UP).isPresent()) {
                bootedImages.add(h.order.imageId());
            }
            Map<String, Long> phases = new LinkedHashMap<>();
            tl.phases().forEach((phase, at) -> phases.put(phase.name(), at.toEpochMilli()));
            out.add(new VmReport(vm.name(), h.order.imageId(), vm.state().name(), phases,
                    tl.guestUptimeSeconds().isPresent() ? tl.guestUptimeSeconds().getAsDouble() : null,
                    vm.failure().orElse(h.failure)));
        }
        return out;
    }

    /** Bytes fetched per image since this agent started, and the part that came from the source. */
    Map<String, VmSyncRequest.ImageFetch> fetches() {
        Map<String, VmSyncRequest.ImageFetch> out = new LinkedHashMap<>();
        for (AgentStatus.Image i : agent.status().images()) {
            long all = 0;
            long source = 0;
            for (AgentStatus.Parent p : i.parents()) {
                all += p.bytesFetched();
                if (p.url().contains(TargetNames.PREFIX + ":source.")) {
                    source += p.bytesFetched();
                }
            }
            out.put(i.imageId(), new VmSyncRequest.ImageFetch(all, source));
        }
        return out;
    }

    /** Stops syncing and pulls the plug on this host's VMs: their disks are this agent's exports. */
    @Override
    public void close() {
        syncs.shutdownNow();
        for (Hosted h : vms.values()) {
            if (h.vm != null) {
                try {
                    driver.kill(h.vm);
                } catch (RuntimeException e) {
                    LOG.warn("VM {}: kill failed: {}", h.order.name(), e.getMessage());
                }
            }
        }
    }
}
