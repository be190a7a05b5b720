package dev.virtman.manager.tree;

import dev.virtman.manager.tree.WorkingTree.Node;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * Candidate parents with a free slot, so that placing a host costs O(log N) instead of a
 * breadth-first scan of the whole tree (which made planning N hosts O(N²): ~70 s for 10,000).
 *
 * <p>Answers exactly what the scan answered (rule 2 of {@link TreePlanner}): among candidates at
 * the shallowest depth that has any, the minimum of (locality distance, child count,
 * breadth-first order). Per depth it keeps the candidates in sets ordered by (child count,
 * breadth-first order), once in a set of all of them and again under their zone, their rack and
 * their (rack, zone), so the best of each distance is the first element of one or two sets:
 * <pre>
 *   distance 0, same rack:  (rack, zone) and (rack, "")  or, for a host without a zone, rack
 *   distance 1, same zone:  zone      (all of them are same-zone only: there was no rack match)
 *   distance 2, elsewhere:  all       (no rack or zone match at this depth, so any is distance 2)
 * </pre>
 *
 * <p>Breadth-first order of two nodes at one depth is the order of their ancestors' attach
 * sequence numbers, compared at the first level where their ancestry differs (a parent's
 * children are in attach order, see {@link WorkingTree}), or sooner by their positions in the
 * starting tree if neither has moved since. The owner removes a node before its
 * child count or ancestry changes and adds it back after, so the order of a set never changes
 * under it.
 */
final class FreeSlotIndex {

    /** Fewer children first, then breadth-first order. Both nodes are at the same depth. */
    private static final Comparator<Node> LOAD_THEN_BREADTH_FIRST = (a, b) -> {
        int byLoad = Integer.compare(a.indexedLoad, b.indexedLoad);
        return byLoad != 0 ? byLoad : compareBreadthFirst(a, b);
    };

    private static int compareBreadthFirst(final Node a, final Node b) {
        Node x = a;
        Node y = b;
        if (x == y) {
            return 0;
        }
        // Distinct nodes at one depth are in the order of their distinct ancestors at any depth.
        while (x.parent != y.parent) {
            if (x.initialRank != WorkingTree.NO_RANK && y.initialRank != WorkingTree.NO_RANK) {
                return Integer.compare(x.initialRank, y.initialRank);
            }
            x = x.parent;
            y = y.parent;
        }
        return Long.compare(x.attachSeq, y.attachSeq);
    }

    /** The candidates at one depth. */
    private static final class Level {
        final TreeSet<Node> all = new TreeSet<>(LOAD_THEN_BREADTH_FIRST);
        final Map<String, TreeSet<Node>> byZone = new HashMap<>();
        final Map<String, TreeSet<Node>> byRack = new HashMap<>();
        final Map<Locality, TreeSet<Node>> byRackAndZone = new HashMap<>();

        void add(final Node node) {
            for (NavigableSet<Node> set : setsOf(node, true)) {
                set.add(node);
            }
        }

        void remove(final Node node) {
            for (NavigableSet<Node> set : setsOf(node, false)) {
                set.remove(node);
            }
        }

        /** The sets a node belongs in; {@code create} makes missing ones (on add). */
        private List<NavigableSet<Node>> setsOf(final Node node, final boolean create) {
            List<NavigableSet<Node>> sets = new ArrayList<>(4);
            sets.add(all);
            Locality l = node.locality;
            if (!l.zone().isEmpty()) {
                addSet(sets, byZone, l.zone(), create);
            }
            if (!l.rack().isEmpty()) {
                addSet(sets, byRack, l.rack(), create);
                addSet(sets, byRackAndZone, l, create);
            }
            return sets;
        }

        private static <K> void addSet(final List<NavigableSet<Node>> sets, final Map<K, TreeSet<Node>> map,
                                       final K key, final boolean create) {
            TreeSet<Node> set = create ? map.computeIfAbsent(key, k -> new TreeSet<>(LOAD_THEN_BREADTH_FIRST))
                    : map.get(key);
            if (set != null) {
                sets.add(set);
            }
        }

        /** Best candidate here for a child at {@code child}, or null if this depth has none. */
        Node best(final Locality child) {
            if (all.isEmpty()) {
                return null;
            }
            if (!child.rack().isEmpty()) {
                // Locality.sameRack: equal rack, zones equal or either unknown.
                Node sameRack = child.zone().isEmpty()
                        ? first(byRack.get(child.rack()))
                        : earlier(first(byRackAndZone.get(child)),
                                  first(byRackAndZone.get(new Locality(child.rack(), ""))));
                if (sameRack != null) {
                    return sameRack;
                }
            }
            if (!child.zone().isEmpty()) {
                Node sameZone = first(byZone.get(child.zone()));
                if (sameZone != null) {
                    return sameZone;
                }
            }
            return all.first();
        }

        private static Node first(final TreeSet<Node> set) {
            return set == null || set.isEmpty() ? null : set.first();
        }

        private static Node earlier(final Node a, final Node b) {
            if (a == null || b == null) {
                return a == null ? b : a;
            }
            return LOAD_THEN_BREADTH_FIRST.compare(a, b) <= 0 ? a : b;
        }
    }

    /** Candidates by depth; a node at the depth bound can have no children, so is never one. */
    private final Level[] levels;

    FreeSlotIndex(final int maxDepth) {
        levels = new Level[maxDepth];
        for (int d = 0; d < maxDepth; d++) {
            levels[d] = new Level();
        }
    }

    /** Adds a node with a free slot at depth below the bound; its indexed load must be set. */
    void add(final Node node) {
        levels[node.depth].add(node);
    }

    void remove(final Node node) {
        levels[node.depth].remove(node);
    }

    /**
     * The parent the breadth-first scan would pick for a host with {@code locality}: at the
     * shallowest depth up to {@code deepestParent} that has a candidate, the nearest, then least
     * loaded, then first in breadth-first order; {@code null} if there is none.
     */
    Node best(final Locality locality, final int deepestParent) {
        for (int d = 0; d <= Math.min(deepestParent, levels.length - 1); d++) {
            Node best = levels[d].best(locality);
            if (best != null) {
                return best;
            }
        }
        return null;
    }
}
