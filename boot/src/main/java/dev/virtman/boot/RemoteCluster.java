package dev.virtman.boot;

import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.HostVmsView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.vm.AgentVmDriver;
import dev.virtman.vm.VmDriver;

import java.util.ArrayList;
import java.util.List;

/**
 * Hosts whose agents already run elsewhere ({@code virtman agent --manager URL --vm-dir DIR}):
 * {@code virtman boot --manager URL --hosts h1,h2} starts nothing itself, it orders each VM on
 * its host through the manager ({@link AgentVmDriver}) and reads the agents' reports back.
 *
 * <p>The source may run anywhere, so "source served" is what the boot's hosts report having
 * fetched from the source target; fetches of other hosts of the same tree are not counted.
 */
public final class RemoteCluster implements BootHosts, AutoCloseable {
    private static final int LUN = 0;
    private static final String ALIVE = "alive";

    private final ManagerClient client;
    private final ImageView image;
    private final List<HostView> hosts;
    private final List<AgentVmDriver> drivers;

    private RemoteCluster(final ManagerClient client, final ImageView image, final List<HostView> hosts) {
        this.client = client;
        this.image = image;
        this.hosts = hosts;
        this.drivers = hosts.stream().map(h -> new AgentVmDriver(client, h.hostId(), image.id())).toList();
    }

    /**
     * Checks that every host is registered, alive, in the image's tree and hosting VMs, and
     * returns the cluster; a {@link BootException} says which host is not ready and what to do.
     */
    public static RemoteCluster connect(final ManagerClient client, final ImageView image, final List<String> hostIds) {
        List<HostView> hosts = new ArrayList<>();
        for (String id : hostIds) {
            HostView h;
            HostVmsView vms;
            try {
                h = client.host(id);
                vms = client.hostVms(id);
            } catch (ManagerClientException e) {
                throw new BootException("host " + id + ": " + e.getMessage(), e);
            }
            if (!ALIVE.equals(h.state())) {
                throw new BootException("host " + id + " is " + h.state() + " (its agent's heartbeats stopped)");
            }
            if (!h.images().contains(image.id())) {
                throw new BootException("host " + id + "'s agent does not serve image " + image.name()
                        + ": start it with --managed-image " + image.name());
            }
            if (vms.reportedMillisAgo() < 0) {
                throw new BootException("host " + id + "'s agent does not run VMs: start it with --vm-dir DIR");
            }
            hosts.add(h);
        }
        return new RemoteCluster(client, image, List.copyOf(hosts));
    }

    public ImageView image() {
        return image;
    }

    public VmDriver driver(final int host) {
        return drivers.get(host);
    }

    @Override
    public int hostCount() {
        return hosts.size();
    }

    @Override
    public String hostId(final int host) {
        return hosts.get(host).hostId();
    }

    @Override
    public String exportUrl(final int host) {
        HostView h = hosts.get(host);
        return "iscsi://" + h.address() + "/" + TargetNames.agentIqn(h.hostId(), image.id()) + "/" + LUN;
    }

    @Override
    public long imageBytes() {
        return image.sizeBytes();
    }

    @Override
    public long sourceBytesServed() {
        return fetchCounters().stream().mapToLong(VmSyncRequest.ImageFetch::sourceBytes).sum();
    }

    @Override
    public long bytesFetchedByAgents() {
        return fetchCounters().stream().mapToLong(VmSyncRequest.ImageFetch::fetchedBytes).sum();
    }

    /** The agents report the first read of each VM with its other phases: nothing to add. */
    @Override
    public void collectPhases(final List<VmBoot> vms) {
    }

    /** Each host's latest fetch counters for the image, as its agent reported them at its last VM sync. */
    private List<VmSyncRequest.ImageFetch> fetchCounters() {
        List<VmSyncRequest.ImageFetch> out = new ArrayList<>();
        for (HostView h : hosts) {
            try {
                VmSyncRequest.ImageFetch f = client.hostVms(h.hostId()).images().get(image.id());
                if (f != null) {
                    out.add(f);
                }
            } catch (ManagerClientException e) {
                // a figure for the status line: the next read will do
            }
        }
        return out;
    }

    @Override
    public void close() {
        drivers.forEach(AgentVmDriver::close);
    }
}
