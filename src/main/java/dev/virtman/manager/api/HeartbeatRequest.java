package dev.virtman.manager.api;

import java.util.Map;

/**
 * {@code POST /v1/hosts/{hostId}/heartbeat}: the agent is alive and serves these images.
 * Listing an image joins the host to its tree; leaving it out leaves the tree.
 *
 * @param hostId optional; if present it must match the path
 */
public record HeartbeatRequest(String hostId, Map<String, ImageReport> images) {

    /**
     * What the agent holds of one image.
     *
     * @param chunksPresent verified chunks in its cache (the best-stocked child is promoted when a parent fails)
     */
    public record ImageReport(long chunksPresent) { }
}
