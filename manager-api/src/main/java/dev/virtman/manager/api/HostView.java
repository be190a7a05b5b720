package dev.virtman.manager.api;

import java.util.List;

/**
 * A host as the API shows it.
 *
 * @param state          {@code alive}, {@code suspect} (a child reported it) or {@code failed}
 * @param lastSeenMillisAgo time since its last heartbeat, or -1 if none since the manager started
 * @param images         images whose tree it is in
 */
public record HostView(String hostId, String address, Labels labels, String state, String registeredAt,
                       long lastSeenMillisAgo, List<String> images) { }
