package dev.virtman.manager.tree;

import java.util.Objects;

/**
 * A live host that should be in an image's tree.
 *
 * @param hostId     unique host id
 * @param locality   rack and zone labels
 * @param chunksHeld how many verified chunks of the image the host holds; when a parent fails the
 *                   best-stocked child is promoted, since it can serve its siblings the most
 */
public record TreeMember(String hostId, Locality locality, long chunksHeld) {

    public TreeMember {
        Objects.requireNonNull(hostId, "hostId");
        Objects.requireNonNull(locality, "locality");
        if (DistributionTree.SOURCE.equals(hostId)) {
            throw new IllegalArgumentException("host id clashes with the source sentinel: " + hostId);
        }
    }

    public static TreeMember of(final String hostId, final String rack, final String zone) {
        return new TreeMember(hostId, new Locality(rack, zone), 0);
    }
}
