package dev.virtman.manager;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.List;

/**
 * Which hosts' heartbeat replies may differ from what they were last told: hosts whose parent
 * changed in a re-plan (and everyone below them, whose parent lists name them), and "all" after
 * rarer events that touch every member of an image (boot profile stored, image removed, image
 * registered). The agents' streams drain this to push only what changed instead of answering
 * every host on every heartbeat.
 */
public final class ReplyChanges {

    /** What changed since the last drain. */
    public record Drained(boolean all, Set<String> hosts) {
        public boolean any() {
            return all || !hosts.isEmpty();
        }
    }

    private volatile Set<String> hosts = ConcurrentHashMap.newKeySet();
    private volatile boolean all;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** {@code listener} runs (on the committing thread; it must be quick) after each change. */
    public void listen(final Runnable listener) {
        listeners.add(listener);
    }

    void hosts(final java.util.Collection<String> changed) {
        if (!changed.isEmpty()) {
            hosts.addAll(changed);
            listeners.forEach(Runnable::run);
        }
    }

    /** Every host's reply may have changed (an image-wide event, a volume created or deleted). */
    public void all() {
        all = true;
        listeners.forEach(Runnable::run);
    }

    /** Everything noted since the last call, and forgets it. */
    public synchronized Drained drain() {
        Set<String> taken = hosts;
        hosts = ConcurrentHashMap.newKeySet();
        boolean wasAll = all;
        all = false;
        return new Drained(wasAll, taken);
    }
}
