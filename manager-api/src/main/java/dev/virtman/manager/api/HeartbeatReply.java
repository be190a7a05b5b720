package dev.virtman.manager.api;

import java.util.List;
import java.util.Map;

/**
 * Reply to a heartbeat: for each image the host reported, its parent list.
 *
 * @param heartbeatIntervalMillis how often the manager expects heartbeats
 * @param images                  per image id
 * @param volumes                 every volume the host's agent must export (the whole set, each time)
 * @param deletedVolumes          volumes whose files the agent must remove; the manager forgets a
 *                                deleted volume once the agent no longer reports it
 */
public record HeartbeatReply(String hostId, long heartbeatIntervalMillis, Map<String, Placement> images,
                             List<VolumeAssignment> volumes, List<String> deletedVolumes) {

    public HeartbeatReply {
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        deletedVolumes = deletedVolumes == null ? List.of() : List.copyOf(deletedVolumes);
    }

    /** A reply without volumes (hosts that export none). */
    public HeartbeatReply(final String hostId, final long heartbeatIntervalMillis, final Map<String, Placement> images) {
        this(hostId, heartbeatIntervalMillis, images, List.of(), List.of());
    }

    /** This reply with the host's volumes. */
    public HeartbeatReply withVolumes(final List<VolumeAssignment> assigned, final List<String> deleted) {
        return new HeartbeatReply(hostId, heartbeatIntervalMillis, images, assigned, deleted);
    }

    /**
     * Where the host sits in one image's tree.
     *
     * @param status  {@code placed}; {@code unplaced} (tree full within its bounds, retried on
     *                every heartbeat); or {@code unknown-image} (the image was removed)
     * @param depth   1 for a child of the source, 0 if not placed
     * @param parents parent, grandparent, ..., source: the agent tries them in order
     * @param bootProfile whether {@code GET /v1/images/{id}/profile} has a read order to prefetch
     * @param children    the hosts whose parent lists name this host's export of the image, as far
     *                    as it admits them: its children and grandchildren (a grandchild logs in
     *                    here when its own parent fails, until the manager re-parents it). The
     *                    agent admits only their initiator names ({@link TargetNames#hostInitiator})
     *                    and its own VMs'. Null from a manager older than this field: admit anyone.
     */
    public record Placement(String status, int depth, List<Portal> parents, boolean bootProfile,
                            List<String> children) {
        public Placement {
            children = children == null ? null : List.copyOf(children);
        }

        /** Without the children (unplaced hosts, and tests of what agents did before the field). */
        public Placement(final String status, final int depth, final List<Portal> parents, final boolean bootProfile) {
            this(status, depth, parents, bootProfile, List.of());
        }
    }
}
