package dev.virtman.manager.tree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable distribution tree for one image: the source target at the root, agents below it.
 * Each host fetches chunks from its parent; its parent list (parent, grandparent, ..., source) is
 * what the manager hands an agent so it can fall back upwards when a parent stops answering.
 *
 * <p>Children keep their attach order, which makes every traversal, and so every plan,
 * deterministic.
 */
public final class DistributionTree {

    /** Id of the root. Host ids are validated never to equal it. */
    public static final String SOURCE = "@source";

    private static final DistributionTree EMPTY = new DistributionTree(new LinkedHashMap<>());

    /** host -> parent, breadth-first (children in attach order; a parent always before its children). */
    private final Map<String, String> parentOf;
    private final Map<String, List<String>> childrenOf;
    private final Map<String, Integer> depthOf;
    private final List<String> breadthFirst;

    private DistributionTree(final LinkedHashMap<String, String> parents) {
        Map<String, List<String>> children = new HashMap<>();
        children.put(SOURCE, new ArrayList<>());
        for (Map.Entry<String, String> e : parents.entrySet()) {
            children.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
        }
        for (Map.Entry<String, String> e : parents.entrySet()) {
            List<String> siblings = children.get(e.getValue());
            if (siblings == null) {
                throw new IllegalArgumentException("host " + e.getKey() + " has unknown parent " + e.getValue());
            }
            siblings.add(e.getKey());
        }
        children.replaceAll((k, v) -> List.copyOf(v));
        this.childrenOf = children;
        Map<String, Integer> depths = new HashMap<>();
        List<String> order = new ArrayList<>();
        ArrayDeque<String> queue = new ArrayDeque<>();
        depths.put(SOURCE, 0);
        queue.add(SOURCE);
        while (!queue.isEmpty()) {
            String node = queue.poll();
            for (String child : children.get(node)) {
                depths.put(child, depths.get(node) + 1);
                order.add(child);
                queue.add(child);
            }
        }
        if (order.size() != parents.size()) {
            throw new IllegalArgumentException("tree has a cycle or a detached host");
        }
        // Edges in breadth-first order whatever order they came in (only siblings' order is
        // structure), so a tree read back from a store that keeps sibling order equals the one
        // written. Plans already come in that order: no copy then.
        if (!sameOrder(order, parents.keySet())) {
            LinkedHashMap<String, String> bfs = LinkedHashMap.newLinkedHashMap(parents.size());
            order.forEach(host -> bfs.put(host, parents.get(host)));
            this.parentOf = Collections.unmodifiableMap(bfs);
        } else {
            this.parentOf = Collections.unmodifiableMap(parents);
        }
        this.depthOf = depths;
        this.breadthFirst = List.copyOf(order);
    }

    private static boolean sameOrder(final List<String> order, final Iterable<String> hosts) {
        int i = 0;
        for (String host : hosts) {
            if (!host.equals(order.get(i++))) {
                return false;
            }
        }
        return true;
    }

    public static DistributionTree empty() {
        return EMPTY;
    }

    /**
     * Builds a tree from (host, parent) edges in attach order; {@link #SOURCE} is the root.
     *
     * @throws IllegalArgumentException on a duplicate host, unknown parent or cycle
     */
    public static DistributionTree fromEdges(final List<Edge> edges) {
        LinkedHashMap<String, String> parents = new LinkedHashMap<>();
        for (Edge e : edges) {
            if (parents.put(e.hostId(), e.parentId()) != null || SOURCE.equals(e.hostId())) {
                throw new IllegalArgumentException("duplicate host in tree: " + e.hostId());
            }
        }
        return new DistributionTree(parents);
    }

    /** One parent link; edges in attach order describe a whole tree. */
    public record Edge(String hostId, String parentId) {
        public Edge {
            Objects.requireNonNull(hostId, "hostId");
            Objects.requireNonNull(parentId, "parentId");
        }
    }

    /** Edges breadth-first, siblings in attach order; {@link #fromEdges} of this gives an equal tree. */
    public List<Edge> edges() {
        List<Edge> edges = new ArrayList<>(parentOf.size());
        parentOf.forEach((host, parent) -> edges.add(new Edge(host, parent)));
        return edges;
    }

    public boolean contains(final String hostId) {
        return parentOf.containsKey(hostId);
    }

    public int size() {
        return parentOf.size();
    }

    /** Hosts (not the source) in attach order. */
    public Set<String> hosts() {
        return parentOf.keySet();
    }

    /** Hosts in breadth-first order from the source, children in attach order. */
    public List<String> breadthFirst() {
        return breadthFirst;
    }

    /** Parent of a host ({@link #SOURCE} for the first level). */
    public String parentOf(final String hostId) {
        String parent = parentOf.get(hostId);
        if (parent == null) {
            throw new IllegalArgumentException("not in tree: " + hostId);
        }
        return parent;
    }

    /** Children of a host or of {@link #SOURCE}, in attach order. */
    public List<String> childrenOf(final String nodeId) {
        List<String> children = childrenOf.get(nodeId);
        if (children == null) {
            throw new IllegalArgumentException("not in tree: " + nodeId);
        }
        return children;
    }

    /** Depth of a node: the source is 0, its children 1. */
    public int depthOf(final String nodeId) {
        Integer depth = depthOf.get(nodeId);
        if (depth == null) {
            throw new IllegalArgumentException("not in tree: " + nodeId);
        }
        return depth;
    }

    /** Deepest level in use (0 for an empty tree). */
    public int depth() {
        return breadthFirst.isEmpty() ? 0 : depthOf.get(breadthFirst.getLast());
    }

    /** Parent, grandparent, ..., ending with {@link #SOURCE}. */
    public List<String> ancestorsOf(final String hostId) {
        List<String> ancestors = new ArrayList<>();
        String node = parentOf(hostId);
        while (!SOURCE.equals(node)) {
            ancestors.add(node);
            node = parentOf.get(node);
        }
        ancestors.add(SOURCE);
        return ancestors;
    }

    /** The node and all its descendants, breadth-first. */
    public List<String> subtreeOf(final String nodeId) {
        List<String> out = new ArrayList<>();
        ArrayDeque<String> queue = new ArrayDeque<>();
        queue.add(nodeId);
        while (!queue.isEmpty()) {
            String node = queue.poll();
            out.add(node);
            queue.addAll(childrenOf(node));
        }
        return out;
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof DistributionTree other && edges().equals(other.edges());
    }

    @Override
    public int hashCode() {
        return parentOf.hashCode();
    }

    @Override
    public String toString() {
        return "DistributionTree" + parentOf;
    }
}
