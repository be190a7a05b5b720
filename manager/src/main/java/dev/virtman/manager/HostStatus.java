package dev.virtman.manager;

import dev.virtman.manager.model.HostRecord;
import java.util.List;

/**
 * A registered host and its liveness now; the HTTP layer turns it into a {@code HostView}.
 *
 * @param state             {@code alive}, {@code suspect} (a child reported it) or {@code failed}
 * @param lastSeenMillisAgo since its last sign of life, -1 if none since the manager started
 * @param images            images whose trees it is in, sorted
 */
public record HostStatus(HostRecord host, String state, long lastSeenMillisAgo, List<String> images) {

    public String hostId() {
        return host.hostId();
    }

    public String address() {
        return host.address();
    }
}
