package dev.virtman.manager.api;

import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/hosts/{hostId}/vm-sync}: an agent that runs VMs reports them and asks for its orders.
 *
 * @param vms    every VM the agent knows, in any state
 * @param images per image id, what the agent fetched from its parents since it started
 */
public record VmSyncRequest(List<VmReport> vms, Map<String, ImageFetch> images) {
    public VmSyncRequest {
        vms = vms == null ? List.of() : List.copyOf(vms);
        images = images == null ? Map.of() : Map.copyOf(images);
    }

    /**
     * @param fetchedBytes verified bytes fetched from all parents
     * @param sourceBytes  the part of them fetched from the source target
     */
    public record ImageFetch(long fetchedBytes, long sourceBytes) { }
}
