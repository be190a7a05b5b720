package dev.virtman.manager.api;

import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/hosts/{hostId}/heartbeat}: the agent is alive and serves these images.
 * Listing an image joins the host to its tree; leaving it out leaves the tree.
 *
 * @param hostId      optional; if present it must match the path
 * @param volumes     ids of the volumes the agent exports right now
 * @param volumeFiles ids of the volumes whose files are on the agent's disk (exported or not: a
 *                    deleted volume is forgotten only once its files are gone)
 */
public record HeartbeatRequest(String hostId, Map<String, ImageReport> images, List<String> volumes,
                               List<String> volumeFiles) {

    public HeartbeatRequest {
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        volumeFiles = volumeFiles == null ? List.of() : List.copyOf(volumeFiles);
    }

    /** A heartbeat of a host that exports no volumes. */
    public HeartbeatRequest(final String hostId, final Map<String, ImageReport> images) {
        this(hostId, images, List.of(), List.of());
    }

    /** A heartbeat of a host whose volume files are exactly the volumes it exports. */
    public HeartbeatRequest(final String hostId, final Map<String, ImageReport> images, final List<String> volumes) {
        this(hostId, images, volumes, volumes);
    }

    /**
     * What the agent holds of one image.
     *
     * @param chunksPresent verified chunks in its cache (the best-stocked child is promoted when a parent fails)
     */
    public record ImageReport(long chunksPresent) { }
}
