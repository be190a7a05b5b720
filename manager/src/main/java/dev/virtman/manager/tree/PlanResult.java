package dev.virtman.manager.tree;

import java.util.List;

/**
 * What {@link TreePlanner#plan} decided.
 *
 * @param tree      the new tree
 * @param changes   every host whose parent changed, in host-id order
 * @param unplaced  live hosts with no slot within the fan-out and depth bounds; they are tried
 *                  again on the next plan, when a slot may have freed up
 */
public record PlanResult(DistributionTree tree, List<TreeChange> changes, List<String> unplaced) {

    public PlanResult {
        changes = List.copyOf(changes);
        unplaced = List.copyOf(unplaced);
    }

    /** Hosts that changed parent while staying in the tree: the re-parent events. */
    public long moves() {
        return changes.stream().filter(c -> c.kind() == TreeChange.Kind.MOVED).count();
    }

    public boolean unchanged() {
        return changes.isEmpty();
    }
}
