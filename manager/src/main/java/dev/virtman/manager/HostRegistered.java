package dev.virtman.manager;

/**
 * A host registration's outcome: whether the host is new, and its status right after the commit
 * (built in the same lock hold, so a registration never waits for the lock twice).
 */
public record HostRegistered(boolean created, HostStatus host) {
}
