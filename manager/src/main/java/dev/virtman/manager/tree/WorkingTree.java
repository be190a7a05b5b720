package dev.virtman.manager.tree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The mutable tree one {@link TreePlanner#plan} works on. A node may be detached (no parent)
 * while its subtree is re-placed; only nodes reachable from the source end up in the result.
 *
 * <p>It keeps every node's depth while the node is reachable from the source, and keeps the
 * {@link FreeSlotIndex} equal to "every reachable, non-failed node with a free slot above the
 * depth bound", so finding a parent never scans the tree. Every change goes through
 * {@link #attach}, {@link #detach} and {@link #remove}, which take nodes out of the index before
 * they change their parent or child count (the index orders by both) and put them back after.
 *
 * <p>Children keep attach order, as in {@link DistributionTree}: each attach stamps the child
 * with a sequence number larger than any before, so a child list is always in increasing
 * sequence order and breadth-first order can be compared without walking the tree.
 */
final class WorkingTree {

    /** One host, or the source. */
    static final class Node {
        final String id;
        final Locality locality;
        final int slots;
        /** A failed host not yet spliced out: never a parent (rule 1 of {@link TreePlanner}). */
        final boolean failed;
        final List<Node> children = new ArrayList<>();
        Node parent;
        /** Attach order among its siblings; only compared between children of one parent. */
        long attachSeq;
        /**
         * Position in the breadth-first order of the tree the plan started from, while the node
         * has not moved since ({@link #NO_RANK} once it or an ancestor was detached): two ranked
         * nodes compare by rank without walking up to their common ancestor.
         */
        int initialRank = NO_RANK;
        /** Distance from the source while reachable from it; {@link #UNREACHABLE} otherwise. */
        int depth = UNREACHABLE;
        /** Child count the index sorted this node by; {@link #NOT_INDEXED} when not in it. */
        int indexedLoad = NOT_INDEXED;

        Node(final String id, final Locality locality, final int slots, final boolean failed) {
            this.id = id;
            this.locality = locality;
            this.slots = slots;
            this.failed = failed;
        }

        int load() {
            return children.size();
        }

        @Override
        public String toString() {
            return id;
        }
    }

    static final int UNREACHABLE = -1;
    static final int NOT_INDEXED = -1;
    static final int NO_RANK = -1;

    private final Map<String, Node> nodes = new HashMap<>();
    private final Node source;
    private final FreeSlotIndex freeSlots;
    private final TreeLimits limits;
    private final Function<String, Locality> localityOf;
    private final Predicate<String> isFailed;
    private long nextAttachSeq;

    /**
     * @param localityOf locality of a host id (or of {@link DistributionTree#SOURCE})
     * @param isFailed   whether a host id is a failed host that may not take children
     */
    WorkingTree(final DistributionTree tree, final TreeLimits limits, final Function<String, Locality> localityOf,
                final Predicate<String> isFailed) {
        this.limits = limits;
        this.localityOf = localityOf;
        this.isFailed = isFailed;
        this.freeSlots = new FreeSlotIndex(limits.maxDepth());
        this.source = newNode(DistributionTree.SOURCE);
        source.depth = 0;
        // Parents come before their children in breadth-first order, so every parent exists.
        int rank = 0;
        source.initialRank = rank++;
        for (String host : tree.breadthFirst()) {
            Node node = newNode(host);
            node.initialRank = rank++;
            Node parent = nodes.get(tree.parentOf(host));
            node.parent = parent;
            node.attachSeq = nextAttachSeq++;
            node.depth = parent.depth + 1;
            parent.children.add(node);
        }
        for (Node node : nodes.values()) {
            index(node);
        }
    }

    private Node newNode(final String id) {
        boolean failed = !DistributionTree.SOURCE.equals(id) && isFailed.test(id);
        int slots = limits.slotsOf(id);
        Node node = new Node(id, localityOf.apply(id), slots, failed);
        nodes.put(id, node);
        return node;
    }

    /** In the tree with a parent (attached, though not necessarily reachable). */
    boolean contains(final String id) {
        Node node = nodes.get(id);
        return node != null && node.parent != null;
    }

    /** The node, created detached if the host is new to the tree. */
    Node node(final String id) {
        Node node = nodes.get(id);
        return node != null ? node : newNode(id);
    }

    /**
     * The best parent for a detached subtree {@code height} levels tall (0 for a single host)
     * whose root has {@code locality}, or {@code null} if no free slot leaves room for it.
     */
    Node bestParent(final Locality locality, final int height) {
        return freeSlots.best(locality, limits.maxDepth() - 1 - height);
    }

    /** Hangs a node (with its subtree) under {@code parent}, after the parent's other children. */
    void attach(final Node node, final Node parent) {
        detach(node);
        unindex(parent);
        node.parent = parent;
        node.attachSeq = nextAttachSeq++;
        parent.children.add(node);
        if (parent.depth != UNREACHABLE) {
            markReachable(node, parent.depth + 1);
        }
        index(parent);
    }

    /** Takes a node (with its subtree) off its parent; no-op if it is detached already. */
    void detach(final Node node) {
        Node parent = node.parent;
        if (parent == null) {
            return;
        }
        if (node.depth != UNREACHABLE) {
            markUnreachable(node);
        }
        unindex(parent);
        parent.children.remove(node);
        node.parent = null;
        index(parent);
    }

    /** Removes a node from the tree; its children stay detached until re-placed. */
    void remove(final Node node) {
        detach(node);
        for (Node child : node.children) {
            child.parent = null;
        }
        node.children.clear();
        nodes.remove(node.id);
    }

    /** Levels below the node: 0 for a leaf. */
    static int heightOf(final Node node) {
        int height = 0;
        ArrayDeque<Node> level = new ArrayDeque<>(node.children);
        while (!level.isEmpty()) {
            height++;
            ArrayDeque<Node> next = new ArrayDeque<>();
            for (Node n : level) {
                next.addAll(n.children);
            }
            level = next;
        }
        return height;
    }

    /** The reachable tree, edges in breadth-first order. */
    DistributionTree toTree() {
        List<DistributionTree.Edge> edges = new ArrayList<>(nodes.size());
        ArrayDeque<Node> queue = new ArrayDeque<>();
        queue.add(source);
        while (!queue.isEmpty()) {
            Node node = queue.poll();
            for (Node child : node.children) {
                edges.add(new DistributionTree.Edge(child.id, node.id));
                queue.add(child);
            }
        }
        return DistributionTree.fromEdges(edges);
    }

    private void markReachable(final Node root, final int depth) {
        root.depth = depth;
        ArrayDeque<Node> queue = new ArrayDeque<>();
        queue.add(root);
        while (!queue.isEmpty()) {
            Node node = queue.poll();
            index(node);
            for (Node child : node.children) {
                child.depth = node.depth + 1;
                queue.add(child);
            }
        }
    }

    /** Out of the index before anything in the subtree changes: the index compares by ancestry. */
    private void markUnreachable(final Node root) {
        ArrayDeque<Node> queue = new ArrayDeque<>();
        queue.add(root);
        while (!queue.isEmpty()) {
            Node node = queue.poll();
            unindex(node); // by its depth and rank, so before they go
            node.depth = UNREACHABLE;
            node.initialRank = NO_RANK;
            queue.addAll(node.children);
        }
    }

    private void index(final Node node) {
        if (node.depth != UNREACHABLE && !node.failed && node.load() < node.slots && node.depth < limits.maxDepth()) {
            node.indexedLoad = node.load();
            freeSlots.add(node);
        }
    }

    private void unindex(final Node node) {
        if (node.indexedLoad != NOT_INDEXED) {
            freeSlots.remove(node);
            node.indexedLoad = NOT_INDEXED;
        }
    }
}
