package dev.virtman.manager;

import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.TreeLimits;
import java.util.List;
import java.util.Map;

/**
 * One image's tree as it is now; the HTTP layer turns it into a {@code TreeView}.
 *
 * @param limits   the fixed bounds this tree is planned with (the depth bound as grown for its hosts)
 * @param hosts    the records of the hosts in it
 * @param unplaced live hosts waiting for a slot
 */
public record TreeSnapshot(String imageId, TreeLimits limits, DistributionTree tree, Map<String, HostRecord> hosts,
                           List<String> unplaced) { }
