package dev.virtman.iscsi.target;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The targets a server exports, changeable while it runs: an agent adds a writable volume's
 * target when the manager assigns the volume and removes it when the volume is deleted.
 *
 * <p>Copy-on-write: every login and SendTargets reads one immutable snapshot without a lock;
 * changes (rare) replace the snapshot under the object's monitor. Order is insertion order, so
 * SendTargets answers list targets as they were configured.
 */
final class TargetCatalog {
    private volatile Map<String, ExportedTarget> byName;

    TargetCatalog(final List<ExportedTarget> initial) {
        Map<String, ExportedTarget> map = new LinkedHashMap<>();
        initial.forEach(t -> map.put(t.iqn(), t));
        this.byName = map;
    }

    ExportedTarget get(final String iqn) {
        return byName.get(iqn);
    }

    List<ExportedTarget> all() {
        return List.copyOf(byName.values());
    }

    synchronized void add(final ExportedTarget target) {
        if (byName.containsKey(target.iqn())) {
            throw new IllegalArgumentException("target " + target.iqn() + " is already exported");
        }
        Map<String, ExportedTarget> next = new LinkedHashMap<>(byName);
        next.put(target.iqn(), target);
        byName = next;
    }

    /** Puts {@code target} in place of the exported target of the same name (its access rules changed). */
    synchronized void replace(final ExportedTarget target) {
        if (!byName.containsKey(target.iqn())) {
            throw new IllegalArgumentException("target " + target.iqn() + " is not exported");
        }
        Map<String, ExportedTarget> next = new LinkedHashMap<>(byName);
        next.put(target.iqn(), target);
        byName = next;
    }

    /** Removes {@code iqn}; returns whether it was exported. */
    synchronized boolean remove(final String iqn) {
        if (!byName.containsKey(iqn)) {
            return false;
        }
        Map<String, ExportedTarget> next = new LinkedHashMap<>(byName);
        next.remove(iqn);
        byName = next;
        return true;
    }
}
