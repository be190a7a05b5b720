package dev.virtman.manager.http;

import dev.virtman.manager.ApiToken;
import dev.virtman.manager.ManagerException;
import dev.virtman.manager.ManagerException.Reason;

/**
 * Decides who sent a request from its {@code Authorization} header. The server knows nothing
 * else about credentials: how a token maps to a caller (one admin token today, per-host
 * credentials issued at enrolment next) lives behind this seam, so the transport and the
 * credential model change independently.
 */
@FunctionalInterface
public interface Authenticator {

    /**
     * @param authorization the raw {@code Authorization} header, or null when absent
     * @return the caller the credential names
     * @throws ManagerException {@link Reason#UNAUTHORIZED} when the header is missing or wrong
     */
    Caller authenticate(String authorization);

    /** Who a request came from, as far as the credential says. */
    record Caller(String name) {
        /** The holder of the manager's API token. */
        public static final Caller ADMIN = new Caller("admin");
    }

    /** Accepts exactly the manager's API token, as {@link Caller#ADMIN}. */
    static Authenticator apiToken(final ApiToken token) {
        return authorization -> {
            if (authorization == null) {
                throw new ManagerException(Reason.UNAUTHORIZED, "missing bearer token: send 'Authorization: Bearer"
                        + " <token>' (the token is in the manager's state directory)");
            }
            String presented = bearer(authorization);
            if (!token.matches(presented)) {
                throw new ManagerException(Reason.UNAUTHORIZED, "invalid bearer token");
            }
            return Caller.ADMIN;
        };
    }

    /** The credential of a {@code Bearer} header, or null when the scheme is another. */
    static String bearer(final String authorization) {
        String scheme = "Bearer ";
        return authorization.regionMatches(true, 0, scheme, 0, scheme.length())
                ? authorization.substring(scheme.length()).strip() : null;
    }
}
