package dev.virtman.manager.store;

import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.tree.DistributionTree;
import java.util.List;
import java.util.Map;

/**
 * Everything the manager persists, as loaded at start-up.
 *
 * @param hosts in registration order
 */
public record StoredState(List<ImageRecord> images, List<HostRecord> hosts, Map<String, DistributionTree> trees,
                          Map<String, BootProfile> profiles) { }
