package dev.virtman.manager.api;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/hosts/{hostId}/vms}: the host's VM orders and its agent's last report.
 *
 * @param orders            what was asked of the host
 * @param reports           what its agent last reported (also VMs without an order)
 * @param images            per image id, the agent's fetch counters at its last report
 * @param reportedMillisAgo time since the agent's last VM sync, or -1 if none since the manager started
 */
public record HostVmsView(String hostId, List<VmOrder> orders, List<VmReport> reports,
                          Map<String, VmSyncRequest.ImageFetch> images, long reportedMillisAgo) { }
