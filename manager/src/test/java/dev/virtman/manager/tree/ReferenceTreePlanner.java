package dev.virtman.manager.tree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Test oracle: {@link TreePlanner} as it was before its candidate-parent index (commit 5d02e97),
 * kept verbatim apart from its name. It scans the whole tree breadth-first for every host it
 * places, so planning N hosts costs O(N^2); that is why it lives here and not in main.
 * {@code TreePlannerEquivalenceTest} checks that the indexed planner returns exactly what this
 * one returns. It is a straight copy of the old logic on purpose, used only as a test oracle:
 * do not "fix" it, change {@link TreePlanner} and its documented rules instead.
 *
 * <p>Rules (see {@link TreePlanner}): failure splice deepest first, then joins into the
 * shallowest free slot (same rack, then same zone, then fewer children, then breadth-first
 * order), within the fan-out and depth bounds.
 */
final class ReferenceTreePlanner {

    private final TreeLimits limits;
    private final Locality sourceLocality;

    ReferenceTreePlanner(final TreeLimits limits, final Locality sourceLocality) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.sourceLocality = Objects.requireNonNull(sourceLocality, "sourceLocality");
    }

    TreeLimits limits() {
        return limits;
    }

    /**
     * Computes the tree that holds exactly the {@code live} hosts (as far as the bounds allow),
     * moving as few existing hosts as possible.
     *
     * @param current the tree agents are using now
     * @param live    hosts that should be in the tree, in join-priority order (e.g. registration)
     */
    PlanResult plan(final DistributionTree current, final List<TreeMember> live) {
        Map<String, TreeMember> members = new LinkedHashMap<>();
        for (TreeMember m : live) {
            if (members.put(m.hostId(), m) != null) {
                throw new IllegalArgumentException("duplicate live host: " + m.hostId());
            }
        }
        Working work = new Working(current);
        List<String> failed = new ArrayList<>();
        for (String host : current.hosts()) {
            if (!members.containsKey(host)) {
                failed.add(host);
            }
        }
        failed.sort(Comparator.comparingInt(current::depthOf).reversed().thenComparing(Comparator.naturalOrder()));
        for (String host : failed) {
            splice(work, host, members);
        }
        List<String> unplaced = new ArrayList<>();
        for (TreeMember m : members.values()) {
            if (!work.contains(m.hostId()) && !place(work, m.hostId(), members)) {
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

    private void splice(final Working work, final String failed, final Map<String, TreeMember> members) {
        String grandparent = work.parentOf(failed);
        List<String> orphans = new ArrayList<>(work.childrenOf(failed));
        work.remove(failed);
        if (orphans.isEmpty()) {
            return;
        }
        Locality slotLocality = localityOf(grandparent, members);
        String promoted = orphans.stream()
                .min(Comparator.<String>comparingInt(h -> localityOf(h, members).distanceTo(slotLocality))
                        .thenComparing(Comparator.<String>comparingLong(h -> members.get(h).chunksHeld()).reversed()))
                .orElseThrow();
        // Same slot, one level up: fan-out unchanged, the promoted subtree only gets shallower.
        work.attach(promoted, grandparent);
        for (String orphan : orphans) {
            if (!orphan.equals(promoted)) {
                placeSubtree(work, orphan, members);
            }
        }
    }

    /**
     * Re-attaches a detached subtree whole if a slot leaves room for its height; otherwise
     * attaches its root alone and re-places each child subtree, so depth stays bounded.
     */
    private void placeSubtree(final Working work, final String root, final Map<String, TreeMember> members) {
        if (place(work, root, members)) {
            return;
        }
        List<String> children = new ArrayList<>(work.childrenOf(root));
        for (String child : children) {
            work.detach(child);
        }
        if (!place(work, root, members)) {
            work.remove(root);
        }
        for (String child : children) {
            placeSubtree(work, child, members);
        }
    }

    /** Attaches a detached node (with its subtree) to the best free slot; false if none fits. */
    private boolean place(final Working work, final String node, final Map<String, TreeMember> members) {
        int height = work.heightOf(node);
        Locality locality = localityOf(node, members);
        String best = null;
        int bestDepth = 0;
        int bestDistance = 0;
        int bestLoad = 0;
        for (Map.Entry<String, Integer> candidate : work.breadthFirstWithDepth()) {
            String parent = candidate.getKey();
            int depth = candidate.getValue();
            int load = work.childrenOf(parent).size();
            // A failed host that is not spliced out yet is never a parent.
            boolean doomed = !DistributionTree.SOURCE.equals(parent) && !members.containsKey(parent);
            if (doomed || load >= limits.slotsOf(parent) || depth + 1 + height > limits.maxDepth()) {
                continue;
            }
            if (best != null && depth > bestDepth) {
                break; // breadth-first: every later candidate is deeper
            }
            int distance = locality.distanceTo(localityOf(parent, members));
            if (best == null || distance < bestDistance || (distance == bestDistance && load < bestLoad)) {
                best = parent;
                bestDepth = depth;
                bestDistance = distance;
                bestLoad = load;
            }
        }
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

    /**
     * The mutable tree a plan works on. A node may be detached (no parent) while its subtree is
     * re-placed; only nodes reachable from the source end up in the result.
     */
    private static final class Working {
        private final LinkedHashMap<String, String> parentOf = new LinkedHashMap<>();
        private final Map<String, List<String>> childrenOf = new HashMap<>();

        Working(final DistributionTree tree) {
            childrenOf.put(DistributionTree.SOURCE, new ArrayList<>(tree.childrenOf(DistributionTree.SOURCE)));
            for (String host : tree.hosts()) {
                parentOf.put(host, tree.parentOf(host));
                childrenOf.put(host, new ArrayList<>(tree.childrenOf(host)));
            }
        }

        boolean contains(final String node) {
            return childrenOf.containsKey(node) && (parentOf.get(node) != null);
        }

        String parentOf(final String node) {
            return parentOf.get(node);
        }

        List<String> childrenOf(final String node) {
            return childrenOf.getOrDefault(node, List.of());
        }

        void detach(final String node) {
            String parent = parentOf.remove(node);
            if (parent != null) {
                childrenOf.get(parent).remove(node);
            }
        }

        void attach(final String node, final String parent) {
            detach(node);
            parentOf.put(node, parent);
            childrenOf.computeIfAbsent(node, k -> new ArrayList<>());
            childrenOf.get(parent).add(node);
        }

        /** Removes a node; its children stay detached until re-placed. */
        void remove(final String node) {
            detach(node);
            for (String child : childrenOf.getOrDefault(node, List.of())) {
                parentOf.remove(child);
            }
            childrenOf.remove(node);
        }

        int heightOf(final String node) {
            int height = 0;
            for (String child : childrenOf(node)) {
                height = Math.max(height, 1 + heightOf(child));
            }
            return height;
        }

        /** Source and attached hosts with their depths, breadth-first, children in attach order. */
        List<Map.Entry<String, Integer>> breadthFirstWithDepth() {
            List<Map.Entry<String, Integer>> out = new ArrayList<>();
            ArrayDeque<Map.Entry<String, Integer>> queue = new ArrayDeque<>();
            queue.add(Map.entry(DistributionTree.SOURCE, 0));
            while (!queue.isEmpty()) {
                Map.Entry<String, Integer> e = queue.poll();
                out.add(e);
                for (String child : childrenOf(e.getKey())) {
                    queue.add(Map.entry(child, e.getValue() + 1));
                }
            }
            return out;
        }

        DistributionTree toTree() {
            List<DistributionTree.Edge> edges = new ArrayList<>();
            ArrayDeque<String> queue = new ArrayDeque<>();
            queue.add(DistributionTree.SOURCE);
            while (!queue.isEmpty()) {
                String node = queue.poll();
                for (String child : childrenOf(node)) {
                    edges.add(new DistributionTree.Edge(child, node));
                    queue.add(child);
                }
            }
            return DistributionTree.fromEdges(edges);
        }
    }
}
