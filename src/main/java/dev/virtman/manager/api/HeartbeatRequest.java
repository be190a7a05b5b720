package dev.virtman.manager.api;

import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/hosts/{hostId}/heartbeat}: the agent is alive and serves these images.
 * Listing an image joins the host to its tree; leaving it out leaves the tree.
 *
 * @param hostId  optional; if present it must match the path
 * @param volumes ids of the volumes the agent exports (and holds files of) right now
 */
public record HeartbeatRequest(String hostId, Map<String, ImageReport> images, List<String> volumes) {

    public HeartbeatRequest {
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
    }

    /** A heartbeat of a host that exports no volumes. */
    public HeartbeatRequest(final String hostId, final Map<String, ImageReport> images) {
        this(hostId, images, List.of());
    }

    /**
     * What the agent holds of one image.
     *
     * @param chunksPresent verified chunks in its cache (the best-stocked child is promoted when a parent fails)
     */
    public record ImageReport(long chunksPresent) { }
}
