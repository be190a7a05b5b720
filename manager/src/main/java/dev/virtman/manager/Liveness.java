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
}
