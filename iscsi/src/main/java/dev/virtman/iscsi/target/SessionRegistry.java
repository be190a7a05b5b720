package dev.virtman.iscsi.target;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sessions of a server: allocates TSIHs and implements session reinstatement (RFC 7143
 * §6.3.5): a new login with the InitiatorName and ISID of an existing session to the same target
 * replaces it, so the old connection is closed.
 */
final class SessionRegistry {

    /** Identity of a session from the initiator's side (§4.4.1: InitiatorName + ISID, per target). */
    record SessionKey(String initiatorName, long isid, String targetName) {
    }

    private static final int TSIH_MASK = 0xffff;

    private final ConcurrentHashMap<SessionKey, TargetConnection> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger nextTsih = new AtomicInteger(1);

    /** A fresh non-zero 16-bit TSIH (§11.12.6: zero means "new session"). */
    int allocateTsih() {
        while (true) {
            int t = nextTsih.getAndIncrement() & TSIH_MASK;
            if (t != 0) {
                return t;
            }
        }
    }

    /** Registers {@code connection}'s session; returns the connection it reinstates, or {@code null}. */
    TargetConnection register(final SessionKey key, final TargetConnection connection) {
        TargetConnection old = sessions.put(key, connection);
        return old == connection ? null : old;
    }

    void unregister(final SessionKey key, final TargetConnection connection) {
        sessions.remove(key, connection);
    }

    int size() {
        return sessions.size();
    }
}
