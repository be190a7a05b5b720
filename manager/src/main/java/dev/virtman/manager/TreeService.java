package dev.virtman.manager;

import dev.virtman.manager.ManagerState.Transaction;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeChange;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One distribution tree per image: re-plans a tree ({@link TreePlanner}) inside the transaction
 * of whatever changed its members, and answers where a host sits in it (its parent list).
 */
final class TreeService {

    private static final Logger LOG = LoggerFactory.getLogger(TreeService.class);

    private final ManagerState state;
    private final TreePlanner planner;
    private final ManagerMetrics metrics;

    TreeService(final ManagerState state, final ManagerMetrics metrics) {
        this.state = state;
        this.planner = new TreePlanner(state.config.limits(), state.config.sourceLocality());
        this.metrics = metrics;
    }

    /** Lock held. */
    TreeSnapshot snapshot(final ImageRecord image) {
        DistributionTree tree = state.trees.get(image.id());
        List<String> waiting = state.unplaced.getOrDefault(image.id(), List.of());
        Map<String, HostRecord> members = new LinkedHashMap<>();
        for (String host : tree.breadthFirst()) {
            members.put(host, state.hosts.get(host));
        }
        return new TreeSnapshot(image.id(), state.config.limits().forHosts(tree.size() + waiting.size()), tree,
                members, waiting);
    }

    /** Re-plans every tree the host is a member of. Lock held, inside a transaction. */
    void replanFor(final String hostId, final Transaction tx) {
        replanFor(List.of(hostId), tx);
    }

    /** Re-plans each image any of {@code hostIds} is in, once. Lock held, inside a transaction. */
    void replanFor(final Collection<String> hostIds, final Transaction tx) {
        Set<String> images = new LinkedHashSet<>();
        for (String hostId : hostIds) {
            images.addAll(state.membership.getOrDefault(hostId, Set.of()));
        }
        for (String image : images) {
            replan(image, tx);
        }
    }

    /** Re-plans one image's tree against the current hosts and memberships. Lock held, inside a transaction. */
    void replan(final String imageId, final Transaction tx) {
        DistributionTree current = state.trees.get(imageId);
        if (current == null) {
            return;
        }
        List<TreeMember> live = new ArrayList<>();
        for (HostRecord h : state.hosts.values()) {
            if (!h.failed() && state.membership.getOrDefault(h.hostId(), Set.of()).contains(imageId)) {
                Liveness l = state.liveness.get(h.hostId());
                long chunks = l == null ? 0 : l.chunksHeld.getOrDefault(imageId, 0L);
                live.add(new TreeMember(h.hostId(), h.locality(), chunks));
            }
        }
        PlanResult plan = planner.plan(current, live);
        state.unplaced = ManagerState.copy(state.unplaced);
        state.unplaced.put(imageId, plan.unplaced());
        if (plan.unchanged()) {
            return;
        }
        state.trees = ManagerState.copy(state.trees);
        state.trees.put(imageId, plan.tree());
        tx.change.putTree(imageId, plan.tree());
        tx.afterCommit(() -> {
            Set<String> changed = new java.util.HashSet<>();
            for (TreeChange c : plan.changes()) {
                changed.add(c.hostId());
                admitters(c.oldParent(), current, changed);
                admitters(c.newParent(), plan.tree(), changed);
                if (c.kind() == TreeChange.Kind.MOVED) {
                    changed.addAll(plan.tree().subtreeOf(c.hostId()));
                }
            }
            changed.addAll(plan.unplaced());
            state.replyChanges.hosts(changed);
            for (TreeChange c : plan.changes()) {
                switch (c.kind()) {
                    case MOVED -> LOG.info("image {}: re-parented {} from {} to {}", imageId, c.hostId(),
                            label(c.oldParent()), label(c.newParent()));
                    case JOINED -> LOG.debug("image {}: {} joined under {}", imageId, c.hostId(), label(c.newParent()));
                    case REMOVED -> LOG.info("image {}: {} left the tree", imageId, c.hostId());
                }
            }
            metrics.reparentEvents.increment(plan.moves());
            if (!plan.unplaced().isEmpty()) {
                LOG.warn("image {}: {} hosts wait for a slot (fan-out/depth bounds reached): {}", imageId,
                        plan.unplaced().size(), plan.unplaced());
            }
        });
    }

    /** Where the host sits in the image's tree: its depth and parent list. Lock held. */
    HeartbeatReply.Placement placement(final String hostId, final String imageId) {
        DistributionTree tree = state.trees.get(imageId);
        if (tree == null) {
            return new HeartbeatReply.Placement("unknown-image", 0, List.of(), false);
        }
        boolean profile = state.profiles.containsKey(imageId);
        if (!tree.contains(hostId)) {
            return new HeartbeatReply.Placement("unplaced", 0, List.of(), profile);
        }
        return new HeartbeatReply.Placement("placed", tree.depthOf(hostId), parentList(hostId, imageId, tree), profile,
                admitted(hostId, tree));
    }

    /** The hosts whose parent lists name {@code hostId} and that its export admits: children and grandchildren. */
    private static List<String> admitted(final String hostId, final DistributionTree tree) {
        List<String> out = new ArrayList<>();
        for (String child : tree.childrenOf(hostId)) {
            out.add(child);
            out.addAll(tree.childrenOf(child));
        }
        return out;
    }

    /** The hosts whose admitted lists ({@link #admitted}) a change of {@code hostId}'s parent alters. */
    private static void admitters(final String parent, final DistributionTree tree, final Set<String> into) {
        if (parent == null || DistributionTree.SOURCE.equals(parent) || !tree.contains(parent)) {
            return;
        }
        into.add(parent);
        String grand = tree.parentOf(parent);
        if (grand != null && !DistributionTree.SOURCE.equals(grand)) {
            into.add(grand);
        }
    }

    private List<Portal> parentList(final String hostId, final String imageId, final DistributionTree tree) {
        List<Portal> parents = new ArrayList<>();
        for (String ancestor : tree.ancestorsOf(hostId)) {
            if (DistributionTree.SOURCE.equals(ancestor)) {
                parents.add(new Portal(null, state.config.sourcePortal(), TargetNames.sourceIqn(imageId)));
            } else {
                parents.add(new Portal(ancestor, state.hosts.get(ancestor).address(),
                        TargetNames.agentIqn(ancestor, imageId)));
            }
        }
        return parents;
    }

    private static String label(final String node) {
        return DistributionTree.SOURCE.equals(node) ? "source" : node;
    }
}
