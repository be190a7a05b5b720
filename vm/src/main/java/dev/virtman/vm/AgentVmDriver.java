package dev.virtman.vm;

import dev.virtman.manager.api.HostVmsView;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmReport;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs VMs on another host through that host's agent: each VM becomes an order on the manager
 * ({@code PUT /v1/hosts/{host}/vms/{name}}), which the agent picks up on its next VM sync and runs
 * with its own QEMU driver over its own export of the image (see {@code dev.virtman.agent.VmHost}).
 * A poller reads the host's reports ({@code GET /v1/hosts/{host}/vms}) and moves the local
 * handles through the same states and phases, so a caller cannot tell this driver from a local one
 * except by latency (one sync period plus one poll).
 *
 * <p>The handle's directory is a label ({@code HOST:NAME}): the VM's files are on the host, under
 * the agent's {@code --vm-dir}.
 */
public final class AgentVmDriver implements VmDriver, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentVmDriver.class);
    private static final Duration POLL_PERIOD = Duration.ofMillis(300);
    /** Time for an order to reach the agent and its report to come back (sync + poll periods, with room for load). */
    private static final Duration REPORT_MARGIN = Duration.ofSeconds(10);
    /** How long an earlier VM of the same name may take to disappear from the host's reports. */
    private static final Duration CLEAR_TIMEOUT = Duration.ofSeconds(60);

    private final ManagerClient client;
    private final String hostId;
    private final String imageId;
    private final Clock clock;
    private final Map<String, VmHandle> vms = new ConcurrentHashMap<>();
    private final Map<String, VmOrder> orders = new ConcurrentHashMap<>();
    private final ScheduledExecutorService poller;
    /** The timeout of the boot in progress, handed to the agent with each order. */
    private volatile Duration bootTimeout = Duration.ofMinutes(5);

    /**
     * @param client  the manager
     * @param hostId  a registered host whose agent runs with {@code --vm-dir} and serves {@code imageId}
     * @param imageId the image every VM of this driver boots from
     */
    public AgentVmDriver(final ManagerClient client, final String hostId, final String imageId) {
        this.client = client;
        this.hostId = hostId;
        this.imageId = imageId;
        this.clock = Clock.systemUTC();
        this.poller = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("vm-poll-" + hostId).factory());
        poller.scheduleWithFixedDelay(this::pollQuietly, POLL_PERIOD.toMillis(), POLL_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    public String hostId() {
        return hostId;
    }

    @Override
    public VmHandle create(final VmSpec spec) {
        Path label = Path.of(hostId + ":" + spec.name());
        VmHandle vm = new VmHandle(spec, label, label.resolve("disk.qcow2"), label.resolve("serial.log"), clock);
        if (vms.putIfAbsent(spec.name(), vm) != null) {
            throw new VmException("VM " + spec.name() + " already exists on " + hostId);
        }
        return vm;
    }

    /** Orders the VM running; the agent creates its overlay and launches it at its next sync. */
    @Override
    public void start(final VmHandle vm) {
        if (vm.state() != VmState.CREATED || !vm.moveTo(VmState.STARTING)) {
            throw new VmException("VM " + vm.name() + " cannot start from state " + vm.state());
        }
        VmSpec s = vm.spec();
        String kernel = null;
        String initrd = null;
        String append = null;
        if (s.boot() instanceof BootSource.DirectKernel k) {
            kernel = k.kernel().toString();
            initrd = k.initrd().toString();
            append = k.append();
        }
        clearEarlierRun(s.name());
        // the agent enforces the boot timeout itself; ours (in boot) only adds the report margin
        VmOrder order = new VmOrder(s.name(), imageId, kernel, initrd, append, s.memoryMiB(), s.upMarker(),
                (int) Math.min(Integer.MAX_VALUE, bootTimeout.getSeconds()), VmOrder.RUNNING);
        try {
            orders.put(s.name(), client.orderVm(hostId, order));
        } catch (ManagerClientException e) {
            vm.fail("the manager refused the VM order for " + hostId + ": " + e.getMessage());
            throw new VmException("cannot order " + s.name() + " on " + hostId + ": " + e.getMessage(), e);
        }
    }

    /**
     * A VM of the same name left on the host by an earlier boot (FAILED or STOPPED, still reported)
     * would end this boot at once: its report would be read as this VM's. Orders it destroyed and
     * waits, bounded, until the agent no longer reports it, so the new order starts a fresh VM.
     */
    private void clearEarlierRun(final String name) {
        if (!reported(name)) {
            return;
        }
        LOG.info("VM {} on {}: removing the earlier VM of that name before booting it again", name, hostId);
        try {
            client.destroyVm(hostId, name);
        } catch (ManagerClientException e) {
            LOG.warn("VM {} on {}: destroy order for the earlier VM failed: {}", name, hostId, e.getMessage());
        }
        long deadline = System.nanoTime() + CLEAR_TIMEOUT.toNanos();
        while (reported(name)) {
            if (System.nanoTime() > deadline) {
                throw new VmException("an earlier VM named " + name + " on " + hostId + " is still reported "
                        + CLEAR_TIMEOUT.toSeconds() + " s after it was ordered destroyed; is its agent syncing?");
            }
            try {
                Thread.sleep(POLL_PERIOD.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmException("interrupted while removing the earlier VM " + name + " on " + hostId, e);
            }
        }
    }

    private boolean reported(final String name) {
        return client.hostVms(hostId).reports().stream().anyMatch(r -> r.name().equals(name));
    }

    @Override
    public VmState boot(final VmHandle vm, final Duration timeout) throws InterruptedException {
        bootTimeout = timeout;
        start(vm);
        VmState state = vm.awaitUp(timeout.plus(REPORT_MARGIN));
        if (state != VmState.UP && !state.isTerminal()) {
            vm.fail("guest not up within " + timeout + " (state " + state + ") on " + hostId);
            kill(vm);
        }
        return vm.state();
    }

    /** Orders a clean power-down and waits for the agent to report it ended. */
    @Override
    public void stop(final VmHandle vm, final Duration grace) {
        order(vm, VmOrder.STOPPED);
        await(vm, grace.plus(REPORT_MARGIN));
    }

    /** Remote VMs are stopped, not killed: the agent powers them down (forced after its grace period). */
    @Override
    public void kill(final VmHandle vm) {
        order(vm, VmOrder.STOPPED);
    }

    /** Orders the VM destroyed; the agent kills it and deletes its directory and overlay. */
    @Override
    public void destroy(final VmHandle vm) {
        VmOrder o = orders.get(vm.name());
        if (o != null) {
            try {
                client.destroyVm(hostId, vm.name());
            } catch (ManagerClientException e) {
                LOG.warn("VM {} on {}: destroy order failed: {}", vm.name(), hostId, e.getMessage());
            }
            orders.remove(vm.name());
        }
        vm.moveTo(VmState.STOPPED);
        vms.remove(vm.name());
    }

    private void order(final VmHandle vm, final String desired) {
        VmOrder o = orders.get(vm.name());
        if (o == null) {
            vm.moveTo(VmState.STOPPED);
            return;
        }
        try {
            orders.put(vm.name(), client.orderVm(hostId, o.withDesired(desired)));
        } catch (ManagerClientException e) {
            LOG.warn("VM {} on {}: {} order failed: {}", vm.name(), hostId, desired, e.getMessage());
        }
    }

    private static void await(final VmHandle vm, final Duration timeout) {
        try {
            vm.awaitEnd(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void pollQuietly() {
        if (orders.isEmpty()) {
            return;
        }
        try {
            poll();
        } catch (RuntimeException e) {
            LOG.warn("reading VM reports of {} failed: {}", hostId, e.toString());
        }
    }

    /** Moves each handle to what the agent last reported. */
    void poll() {
        HostVmsView view = client.hostVms(hostId);
        for (VmReport r : view.reports()) {
            VmHandle vm = vms.get(r.name());
            if (vm != null && orders.containsKey(r.name())) {
                apply(vm, r);
            }
        }
    }

    static void apply(final VmHandle vm, final VmReport r) {
        r.phases().forEach((phase, millis) -> {
            try {
                vm.recordPhaseAt(VmPhase.valueOf(phase), Instant.ofEpochMilli(millis));
            } catch (IllegalArgumentException unknown) {
                // a newer agent's phase: not ours to show
            }
        });
        VmState reported;
        try {
            reported = VmState.valueOf(r.state());
        } catch (IllegalArgumentException | NullPointerException unknown) {
            return;
        }
        switch (reported) {
            case BOOTING -> booting(vm);
            case UP -> up(vm, r);
            case STOPPED -> {
                if (r.phases().containsKey(VmPhase.GUEST_UP.name())) {
                    up(vm, r);
                }
                vm.moveTo(VmState.STOPPED);
            }
            case FAILED -> vm.fail(r.failure() == null ? "failed on its host" : r.failure());
            default -> { }
        }
    }

    /** A report never moves a handle backwards: only STARTING becomes BOOTING. */
    private static void booting(final VmHandle vm) {
        if (vm.state() == VmState.STARTING) {
            vm.moveTo(VmState.BOOTING);
        }
    }

    private static void up(final VmHandle vm, final VmReport r) {
        booting(vm);
        vm.markUp(r.guestUptimeSeconds() == null ? OptionalDouble.empty() : OptionalDouble.of(r.guestUptimeSeconds()));
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
