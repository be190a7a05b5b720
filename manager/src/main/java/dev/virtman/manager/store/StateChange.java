package dev.virtman.manager.store;

import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.tree.DistributionTree;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of writes committed as one transaction by {@link StateStore#commit}: either all of them
 * are durable or none is. The manager builds one per request, commits it, and only then updates
 * its in-memory state.
 */
public final class StateChange {

    /** One write. */
    sealed interface Op permits PutImage, DeleteImage, PutHost, DeleteHost, PutTree, PutProfile { }

    record PutImage(ImageRecord image) implements Op { }

    /** Also deletes the image's tree and boot profile. */
    record DeleteImage(String imageId) implements Op { }

    record PutHost(HostRecord host) implements Op { }

    record DeleteHost(String hostId) implements Op { }

    record PutTree(String imageId, DistributionTree tree) implements Op { }

    record PutProfile(BootProfile profile) implements Op { }

    private final List<Op> ops = new ArrayList<>();
    private boolean rebuildable;

    /**
     * Marks this change as one the manager can rebuild from agents' heartbeats (tree membership,
     * failure flags). The store then commits it without waiting for fsync: still atomic and still
     * safe against a killed process, but an OS crash or power loss may drop the latest such
     * changes, which the next heartbeats redo. This keeps the first heartbeats of a boot storm
     * from queueing behind one disk sync each.
     */
    public StateChange rebuildable() {
        this.rebuildable = true;
        return this;
    }

    public boolean isRebuildable() {
        return rebuildable;
    }

    public StateChange putImage(final ImageRecord image) {
        ops.add(new PutImage(image));
        return this;
    }

    public StateChange deleteImage(final String imageId) {
        ops.add(new DeleteImage(imageId));
        return this;
    }

    public StateChange putHost(final HostRecord host) {
        ops.add(new PutHost(host));
        return this;
    }

    public StateChange deleteHost(final String hostId) {
        ops.add(new DeleteHost(hostId));
        return this;
    }

    public StateChange putTree(final String imageId, final DistributionTree tree) {
        ops.add(new PutTree(imageId, tree));
        return this;
    }

    public StateChange putProfile(final BootProfile profile) {
        ops.add(new PutProfile(profile));
        return this;
    }

    public boolean isEmpty() {
        return ops.isEmpty();
    }

    List<Op> ops() {
        return ops;
    }
}
