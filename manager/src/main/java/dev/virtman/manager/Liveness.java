package dev.virtman.manager;

import java.util.HashMap;
import java.util.Map;

/** What the manager knows about a host's recent activity; memory only, guarded by the state lock. */
final class Liveness {
    long lastSeenMillis;
    boolean heardSinceStart;
    /** image -> chunks the host reported holding. */
    final Map<String, Long> chunksHeld = new HashMap<>();

    Liveness(final long now) {
        this.lastSeenMillis = now;
    }

    /**
     * Counts the host as seen at {@code millis} unless it was seen later: a heartbeat noted on
     * arrival, or a grace that gives every host a full timeout from now (a reload, a store that
     * refused commits). Never moves the last sign of life back.
     */
    void seenAtLeast(final long millis) {
        lastSeenMillis = Math.max(lastSeenMillis, millis);
    }
}
