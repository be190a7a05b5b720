package dev.virtman.boot;

import java.util.List;

/**
 * The hosts a boot runs VMs on, and the data-path counters it reports: the agents it started
 * itself ({@link EmbeddedCluster}) or agents already running on other hosts ({@link RemoteCluster}).
 */
public interface BootHosts {

    int hostCount();

    String hostId(int host);

    /** The iSCSI URL of host {@code host}'s export of the image: what its VMs' overlays are backed by. */
    String exportUrl(int host);

    long imageBytes();

    /** Bytes of image data the source served (or, for remote hosts, that they fetched from it) so far. */
    long sourceBytesServed();

    /** Bytes every agent of the boot fetched from its parents so far. */
    long bytesFetchedByAgents();

    /** Adds the phases only the agents saw (the first read of each VM) to the VMs' timelines. */
    void collectPhases(List<VmBoot> vms);
}
