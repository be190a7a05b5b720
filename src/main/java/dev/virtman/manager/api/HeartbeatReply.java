package dev.virtman.manager.api;

import java.util.List;
import java.util.Map;

/**
 * Reply to a heartbeat: for each image the host reported, its parent list.
 *
 * @param heartbeatIntervalMillis how often the manager expects heartbeats
 * @param images                  per image id
 */
public record HeartbeatReply(String hostId, long heartbeatIntervalMillis, Map<String, Placement> images) {

    /**
     * Where the host sits in one image's tree.
     *
     * @param status  {@code placed}; {@code unplaced} (tree full within its bounds, retried on
     *                every heartbeat); or {@code unknown-image} (the image was removed)
     * @param depth   1 for a child of the source, 0 if not placed
     * @param parents parent, grandparent, ..., source: the agent tries them in order
     * @param bootProfile whether {@code GET /v1/images/{id}/profile} has a read order to prefetch
     */
    public record Placement(String status, int depth, List<Portal> parents, boolean bootProfile) { }
}
