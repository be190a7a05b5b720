package dev.virtman.manager.model;

import dev.virtman.manager.tree.Locality;
import java.time.Instant;

/**
 * A registered host, as persisted. Liveness (last heartbeat, suspicion) is kept in memory only:
 * writing every heartbeat would cost a disk sync per host per second for no gain, since after a
 * restart every host gets a fresh grace period anyway.
 *
 * @param failed whether the failure detector took it out of all trees
 * @param seq    registration order, which is the join order when trees are planned
 */
public record HostRecord(String hostId, String address, Locality locality, boolean failed, Instant registeredAt,
                         long seq) {

    public HostRecord withFailed(final boolean nowFailed) {
        return new HostRecord(hostId, address, locality, nowFailed, registeredAt, seq);
    }
}
