package dev.virtman.manager;

import dev.virtman.manager.api.HostVmsView;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmReport;
import dev.virtman.manager.api.VmSyncReply;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.orders.VmOrderStore;
import dev.virtman.manager.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * VM orders per host, and what each host's agent last reported of its VMs: how {@code virtman
 * boot --manager} runs VMs on hosts it cannot reach itself. The boot puts orders here; each agent
 * that runs VMs polls {@code vm-sync} (its reports in, all its orders out) and converges on them.
 *
 * <p>Orders are kept in the state backend ({@link VmOrderStore}: SQLite, or etcd shared by several
 * managers) and mirrored in memory: a write goes to the store first and changes the memory only
 * once it committed (a follower's write fails there with 503 naming the leader, as every other
 * write does), and reads answer from memory, so agents' syncs and {@code GET .../vms} need no
 * store round trip and keep answering while etcd has no quorum. {@link #reload()} re-reads the
 * store: at start-up, on a follower whenever etcd's revision moved, and on a newly elected
 * leader before it writes, so a new leader hands out every order the old one took.
 *
 * <p>The agents' reports stay in memory only, on the manager the agent syncs with: each sync
 * re-sends them whole. Orders are level-triggered (the agent gets the whole list every time), and
 * an agent never destroys a VM just because no order mentions it. A {@code destroyed} order is
 * dropped once its agent no longer reports the VM; a manager that may not write (a follower, or
 * etcd without quorum) keeps it until a sync reaches one that may.
 */
public final class VmBoard {
    /** Most orders and most reported VMs per host: far above what a host runs, and a bound on memory. */
    static final int MAX_VMS_PER_HOST = 1024;
    private static final Pattern VM_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
    private static final Set<String> DESIRED = Set.of(VmOrder.RUNNING, VmOrder.STOPPED, VmOrder.DESTROYED);
    private static final int MIN_MEMORY_MIB = 16;
    private static final int MAX_TEXT = 4096;

    private static final Logger LOG = LoggerFactory.getLogger(VmBoard.class);

    private final InstantSource clock;
    private final VmOrderStore store;
    private final Map<String, HostVms> hosts = new ConcurrentHashMap<>();

    /** A board over {@code store}, loaded from it. */
    public VmBoard(final InstantSource clock, final VmOrderStore store) {
        this.clock = clock;
        this.store = store;
        reload();
    }

    /**
     * Replaces the orders in memory with the store's (reports stay); a host's orders change under
     * its monitor, so a concurrent sync sees either the old list or the new one.
     */
    public void reload() {
        Map<String, List<VmOrder>> stored = store.all();
        for (String hostId : stored.keySet()) {
            hosts.computeIfAbsent(hostId, k -> new HostVms());
        }
        for (Map.Entry<String, HostVms> e : hosts.entrySet()) {
            HostVms h = e.getValue();
            synchronized (h) {
                h.orders.clear();
                for (VmOrder o : stored.getOrDefault(e.getKey(), List.of())) {
                    h.orders.put(o.name(), o);
                }
            }
        }
    }

    /** One host's orders and last report; guarded by its own monitor. */
    private static final class HostVms {
        final Map<String, VmOrder> orders = new LinkedHashMap<>();
        List<VmReport> reports = List.of();
        Map<String, VmSyncRequest.ImageFetch> images = Map.of();
        long reportedAtMillis = -1;
    }

    /**
     * Places or replaces the order for VM {@code order.name()} on {@code hostId}; the caller has
     * checked that the host is registered and resolved the image to its id.
     *
     * @return true if the VM had no order yet
     */
    public boolean order(final String hostId, final VmOrder order) {
        validate(order);
        HostVms h = hosts.computeIfAbsent(hostId, k -> new HostVms());
        synchronized (h) {
            VmOrder previous = h.orders.get(order.name());
            if (previous == null && h.orders.size() >= MAX_VMS_PER_HOST) {
                throw ManagerException.conflict("host " + hostId + " already has " + MAX_VMS_PER_HOST + " VM orders");
            }
            if (previous != null && !previous.imageId().equals(order.imageId())
                    && !previous.desired().equals(VmOrder.DESTROYED)) {
                throw ManagerException.conflict("VM " + order.name() + " on " + hostId + " runs image "
                        + previous.imageId() + "; destroy it before reusing the name");
            }
            store.put(hostId, order);
            h.orders.put(order.name(), order);
            return previous == null;
        }
    }

    /** Asks for VM {@code name} on {@code hostId} to be destroyed (its overlay removed). */
    public void destroy(final String hostId, final String name) {
        HostVms h = hosts.get(hostId);
        if (h != null) {
            synchronized (h) {
                VmOrder o = h.orders.get(name);
                if (o != null) {
                    VmOrder destroyed = o.withDesired(VmOrder.DESTROYED);
                    store.put(hostId, destroyed);
                    h.orders.put(name, destroyed);
                    return;
                }
            }
        }
        throw ManagerException.notFound("no VM order " + name + " on host " + hostId);
    }

    /** An agent's sync: records its report, drops destroyed orders it no longer reports, returns all orders. */
    public VmSyncReply sync(final String hostId, final VmSyncRequest request) {
        if (request.vms().size() > MAX_VMS_PER_HOST) {
            throw ManagerException.invalid("a sync reports at most " + MAX_VMS_PER_HOST + " VMs");
        }
        HostVms h = hosts.computeIfAbsent(hostId, k -> new HostVms());
        synchronized (h) {
            h.reports = request.vms();
            h.images = request.images();
            h.reportedAtMillis = clock.millis();
            Set<String> reported = new java.util.HashSet<>();
            request.vms().forEach(r -> reported.add(r.name()));
            List<String> gone = new ArrayList<>();
            h.orders.values().forEach(o -> {
                if (o.desired().equals(VmOrder.DESTROYED) && !reported.contains(o.name())) {
                    gone.add(o.name());
                }
            });
            for (String name : gone) {
                try {
                    store.delete(hostId, name);
                    h.orders.remove(name);
                } catch (StoreException e) {
                    // a follower, or no quorum: the order stays until a sync reaches a manager that may write
                    LOG.debug("keeping destroyed VM order {} on {}: {}", name, hostId, e.getMessage());
                    break;
                }
            }
            return new VmSyncReply(new ArrayList<>(h.orders.values()));
        }
    }

    public HostVmsView view(final String hostId) {
        HostVms h = hosts.get(hostId);
        if (h == null) {
            return new HostVmsView(hostId, List.of(), List.of(), Map.of(), -1);
        }
        synchronized (h) {
            return new HostVmsView(hostId, List.copyOf(h.orders.values()), h.reports, h.images,
                    h.reportedAtMillis < 0 ? -1 : Math.max(0, clock.millis() - h.reportedAtMillis));
        }
    }

    /** Forgets a host that left (its agent's VMs are its own business from then on). */
    public void forget(final String hostId) {
        store.forget(hostId);
        hosts.remove(hostId);
    }

    private static void validate(final VmOrder o) {
        if (o.name() == null || !VM_NAME.matcher(o.name()).matches()) {
            throw ManagerException.invalid("VM name must match " + VM_NAME + ": " + InputRules.quoted(o.name()));
        }
        if (o.desired() == null || !DESIRED.contains(o.desired())) {
            throw ManagerException.invalid("desired must be one of " + DESIRED + ", got " + InputRules.quoted(o.desired()));
        }
        if (o.memoryMiB() < MIN_MEMORY_MIB) {
            throw ManagerException.invalid("memoryMiB must be at least " + MIN_MEMORY_MIB);
        }
        if (o.timeoutSeconds() < 1) {
            throw ManagerException.invalid("timeoutSeconds must be positive");
        }
        if ((o.kernel() == null) != (o.initrd() == null)) {
            throw ManagerException.invalid("kernel and initrd go together");
        }
        if (o.upMarker() == null || o.upMarker().isBlank()) {
            throw ManagerException.invalid("upMarker is required");
        }
        InputRules.requireText("kernel", o.kernel());
        InputRules.requireText("initrd", o.initrd());
        InputRules.requireText("append", o.append());
        InputRules.requireText("upMarker", o.upMarker());
        for (String text : new String[] {o.kernel(), o.initrd(), o.append(), o.upMarker()}) {
            if (text != null && text.length() > MAX_TEXT) {
                throw ManagerException.invalid("a VM order field is longer than " + MAX_TEXT + " characters");
            }
        }
    }
}
