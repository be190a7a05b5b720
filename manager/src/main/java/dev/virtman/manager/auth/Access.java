package dev.virtman.manager.auth;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;

/**
 * What each principal may do, in the domain's words. A host's credential acts only as that host:
 * it registers and heartbeats as itself (its heartbeat replies carry its own volumes' CHAP
 * secrets and nobody else's), reads and reports its own VMs, reports failures as itself, reads
 * images and their manifests and boot profiles (the data it caches) and records a boot profile
 * in its own name. Everything else (image registration, volumes and their connections, VM
 * orders, the host list, trees, metrics, removing hosts) is the admin's. The enrolment token
 * only enrols hosts that have no credential yet.
 *
 * <p>Refusals are 403 with a message that names the principal and what it may not do; the
 * credential itself was valid (a wrong credential is a 401 from {@link Credentials}).
 */
public final class Access {

    private Access() {
    }

    /** Admin only. */
    public static void requireAdmin(final Principal who, final String action) {
        if (!(who instanceof Principal.Admin)) {
            throw forbidden(who, action + " needs the admin token");
        }
    }

    /** The admin, or the host {@code hostId} itself. */
    public static void requireActingAs(final Principal who, final String hostId, final String action) {
        if (who instanceof Principal.Admin) {
            return;
        }
        if (who instanceof Principal.Host h && h.hostId().equals(hostId)) {
            return;
        }
        throw forbidden(who, action + " as host '" + hostId + "' needs that host's own credential or the admin token");
    }

    /** The admin or any enrolled host: image metadata, manifests and boot profiles. */
    public static void requireAdminOrHost(final Principal who, final String action) {
        if (!(who instanceof Principal.Admin) && !(who instanceof Principal.Host)) {
            throw forbidden(who, action + " needs a host credential or the admin token");
        }
    }

    /**
     * Issuing a host credential: the admin always (re-enrolling rotates it); the enrolment token
     * only for a host id nobody holds a credential for, so it cannot take over an enrolled host.
     */
    public static void requireMayEnrol(final Principal who, final String hostId, final boolean enrolled) {
        if (who instanceof Principal.Admin) {
            return;
        }
        if (who instanceof Principal.Enroller) {
            if (enrolled) {
                throw ManagerException.conflict("host '" + hostId + "' is already enrolled; the enrolment token cannot"
                        + " re-enrol it (an admin can: that rotates its credential)");
            }
            return;
        }
        throw forbidden(who, "enrolling host '" + hostId + "' needs the enrolment token or the admin token");
    }

    private static ManagerException forbidden(final Principal who, final String what) {
        return new ManagerException(Reason.FORBIDDEN, "forbidden for " + who + ": " + what);
    }
}
