package dev.virtman.manager.tree;

import dev.virtman.manager.tree.WorkingTree.Node;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Plans one image's distribution tree. Pure and deterministic: no I/O, no clock, no randomness,
 * so the manager, its tests and the boot-storm simulation all get the same tree from the same
 * inputs.
 *
 * <p>Rules, in the order they are applied by {@link #plan}:
 * <ol>
 *   <li><b>Failure splice.</b> Hosts in the current tree but not live are removed, deepest first
 *       (so a failed node's children are all live when it is spliced). One child is promoted into
 *       the failed node's slot (same rack as the grandparent first, then most chunks held, then
 *       attach order); its siblings are re-placed with their subtrees intact. Only hosts in a
 *       failed node's subtree ever move.</li>
 *   <li><b>Join.</b> Live hosts not in the tree are placed, in the given order, into the
 *       shallowest free slot; among equally shallow slots a parent in the same rack wins, then
 *       the same zone, then the parent with fewer children, then breadth-first order. A join
 *       never moves an existing host.</li>
 *   <li><b>Bounds.</b> The source has at most {@code sourceFanOut} children, every agent at most
 *       {@code fanOut}, and no host is deeper than {@code maxDepth}. A host that does not fit is
 *       reported unplaced rather than breaking a bound. With {@link TreeLimits#growing} limits
 *       the depth bound of a plan is the one {@link TreeLimits#forHosts} gives for the live
 *       hosts, so every host fits.</li>
 * </ol>
 */
public final class TreePlanner {

    private final TreeLimits limits;
    private final Locality sourceLocality;

    public TreePlanner(final TreeLimits limits, final Locality sourceLocality) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.sourceLocality = Objects.requireNonNull(sourceLocality, "sourceLocality");
    }

    public TreeLimits limits() {
        return limits;
    }

    /**
     * Computes the tree that holds exactly the {@code live} hosts (as far as the bounds allow),
     * moving as few existing hosts as possible.
     *
     * @param current the tree agents are using now
     * @param live    hosts that should be in the tree, in join-priority order (e.g. registration)
     */
    public PlanResult plan(final DistributionTree current, final List<TreeMember> live) {
        Map<String, TreeMember> members = new LinkedHashMap<>();
        for (TreeMember m : live) {
            if (members.put(m.hostId(), m) != null) {
                throw new IllegalArgumentException("duplicate live host: " + m.hostId());
            }
        }
        WorkingTree work = new WorkingTree(current, limits.forHosts(members.size()), host -> localityOf(host, members),
                host -> !members.containsKey(host));
        List<String> failed = new ArrayList<>();
        for (String host : current.hosts()) {
            if (!members.containsKey(host)) {
                failed.add(host);
            }
        }
        failed.sort(Comparator.comparingInt(current::depthOf).reversed().thenComparing(Comparator.naturalOrder()));
        for (String host : failed) {
            splice(work, work.node(host), members);
        }
        List<String> unplaced = new ArrayList<>();
        for (TreeMember m : members.values()) {
            if (!work.contains(m.hostId()) && !place(work, work.node(m.hostId()))) {
                unplaced.add(m.hostId());
            }
        }
        DistributionTree next = work.toTree();
        return new PlanResult(next, diff(current, next), unplaced);
    }

    /** Every host whose parent differs between {@code before} and {@code after}, by host id. */
    public static List<TreeChange> diff(final DistributionTree before, final DistributionTree after) {
        TreeSet<String> hosts = new TreeSet<>(before.hosts());
        hosts.addAll(after.hosts());
        List<TreeChange> changes = new ArrayList<>();
        for (String host : hosts) {
            String was = before.contains(host) ? before.parentOf(host) : null;
            String now = after.contains(host) ? after.parentOf(host) : null;
            if (!Objects.equals(was, now)) {
                changes.add(new TreeChange(host, was, now));
            }
        }
        return changes;
    }

    private void splice(final WorkingTree work, final Node failed, final Map<String, TreeMember> members) {
        Node grandparent = failed.parent;
        List<Node> orphans = new ArrayList<>(failed.children);
        work.remove(failed);
        if (orphans.isEmpty()) {
            return;
        }
        Locality slotLocality = grandparent.locality;
        Node promoted = orphans.stream()
                .min(Comparator.<Node>comparingInt(h -> h.locality.distanceTo(slotLocality))
                        .thenComparing(Comparator.<Node>comparingLong(h -> members.get(h.id).chunksHeld()).reversed()))
                .orElseThrow();
        // Same slot, one level up: fan-out unchanged, the promoted subtree only gets shallower.
        work.attach(promoted, grandparent);
        for (Node orphan : orphans) {
            if (orphan != promoted) {
                placeSubtree(work, orphan);
            }
        }
    }

    /**
     * Re-attaches a detached subtree whole if a slot leaves room for its height; otherwise
     * attaches its root alone and re-places each child subtree, so depth stays bounded.
     */
    private void placeSubtree(final WorkingTree work, final Node root) {
        if (place(work, root)) {
            return;
        }
        List<Node> children = new ArrayList<>(root.children);
        for (Node child : children) {
            work.detach(child);
        }
        if (!place(work, root)) {
            work.remove(root);
        }
        for (Node child : children) {
            placeSubtree(work, child);
        }
    }

    /**
     * Attaches a detached node (with its subtree) to the best free slot; false if none fits. The
     * best slot is the first minimum of (depth, locality distance, child count) in breadth-first
     * order over the reachable, non-failed nodes with a free slot and room below for the
     * subtree; {@link FreeSlotIndex} finds it without a scan.
     */
    private boolean place(final WorkingTree work, final Node node) {
        Node best = work.bestParent(node.locality, WorkingTree.heightOf(node));
        if (best == null) {
            return false;
        }
        work.attach(node, best);
        return true;
    }

    /** Unknown for a failed host that is still waiting to be spliced out. */
    private Locality localityOf(final String node, final Map<String, TreeMember> members) {
        if (DistributionTree.SOURCE.equals(node)) {
            return sourceLocality;
        }
        TreeMember member = members.get(node);
        return member == null ? Locality.UNKNOWN : member.locality();
    }
}
