package dev.virtman.manager;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Children's reports that their parent has gone silent, and when they are enough to fail it
 * without waiting for the heartbeat timeout.
 *
 * <p>A silent host (power loss, a cut switch port, a long pause) stops answering its children and
 * its heartbeats together, but the heartbeat timeout has to be long (seconds to tens of seconds on a
 * busy fleet) to spare slow hosts. Children notice within about a second, because they read from
 * the host all the time ({@code ParentFailover} reports a parent that answers nothing for its
 * silence threshold). One child's word is not enough: its own link may be the broken one, or it may
 * be misconfigured or lying, and failing a healthy parent moves its whole subtree. So a host fails
 * on a report when either
 * <ul>
 *   <li>{@value #REPORTERS_TO_FAIL} distinct children reported it within {@link #windowMillis}, or</li>
 *   <li>one did and the manager's own evidence agrees: no heartbeat from the host for
 *       {@link #staleMillis} (a passive probe: a host that heartbeats is reachable from here).</li>
 * </ul>
 * Only hosts that have the suspect among their ancestors count as its children (the caller checks
 * the trees). Memory-only, like liveness; not thread-safe (the manager calls it under its lock);
 * time is passed in, so tests drive it.
 */
public final class SuspicionTracker {
    /** Distinct children whose reports fail a host that still heartbeats to the manager. */
    public static final int REPORTERS_TO_FAIL = 2;

    /** What a report led to. */
    public enum Verdict { FAILED, SUSPECT }

    private final long windowMillis;
    private final long staleMillis;
    /** suspect -> (reporter -> time of its latest report). */
    private final Map<String, Map<String, Long>> reports = new HashMap<>();

    /**
     * @param windowMillis how long a report counts (reports further apart do not agree)
     * @param staleMillis  heartbeat silence that makes one report enough
     */
    public SuspicionTracker(final long windowMillis, final long staleMillis) {
        if (windowMillis <= 0 || staleMillis <= 0) {
            throw new IllegalArgumentException("window and staleness must be positive");
        }
        this.windowMillis = windowMillis;
        this.staleMillis = staleMillis;
    }

    /**
     * Records that {@code reporter} finds {@code suspect} silent at {@code nowMillis}, given the
     * suspect's last heartbeat, and says whether the suspect is now failed.
     */
    public Verdict report(final String suspect, final String reporter, final long nowMillis,
                          final long lastHeartbeatMillis) {
        Map<String, Long> by = reports.computeIfAbsent(suspect, k -> new LinkedHashMap<>());
        by.values().removeIf(t -> nowMillis - t > windowMillis);
        by.put(reporter, nowMillis);
        boolean stale = nowMillis - lastHeartbeatMillis > staleMillis;
        return stale || by.size() >= REPORTERS_TO_FAIL ? Verdict.FAILED : Verdict.SUSPECT;
    }

    /** Children whose reports about {@code suspect} still count at {@code nowMillis}. */
    public Set<String> reporters(final String suspect, final long nowMillis) {
        Map<String, Long> by = reports.getOrDefault(suspect, Map.of());
        Map<String, Long> live = new LinkedHashMap<>();
        by.forEach((r, t) -> {
            if (nowMillis - t <= windowMillis) {
                live.put(r, t);
            }
        });
        return live.keySet();
    }

    /** Whether some child's report about {@code host} still counts. */
    public boolean suspected(final String host, final long nowMillis) {
        return !reporters(host, nowMillis).isEmpty();
    }

    /** Forgets the reports about {@code host} (it failed, so they were acted on). */
    public void clear(final String host) {
        reports.remove(host);
    }
}
