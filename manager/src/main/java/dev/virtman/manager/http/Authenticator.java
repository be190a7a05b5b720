package dev.virtman.manager.http;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;
import dev.virtman.manager.auth.Credentials;
import dev.virtman.manager.auth.Principal;

/**
 * Decides who sent a request from its {@code Authorization} header. The server knows nothing
 * else about credentials: how a token maps to a {@link Principal} (admin, enrolment, one host)
 * is {@link Credentials}' job, and what a principal may do is the domain's
 * ({@link dev.virtman.manager.auth.Access}), so the transport and the credential model change
 * independently.
 */
@FunctionalInterface
public interface Authenticator {

    /**
     * @param authorization the raw {@code Authorization} header, or null when absent
     * @return the principal the credential names
     * @throws ManagerException {@link Reason#UNAUTHORIZED} when the header is missing or wrong
     */
    Principal authenticate(String authorization);

    /** Bearer tokens checked against the manager's credentials. */
    static Authenticator of(final Credentials credentials) {
        return authorization -> {
            if (authorization != null && bearer(authorization) == null) {
                throw new ManagerException(Reason.UNAUTHORIZED, "the Authorization header must be 'Bearer <token>'");
            }
            return credentials.authenticate(authorization == null ? null : bearer(authorization));
        };
    }

    /** The credential of a {@code Bearer} header, or null when the scheme is another. */
    static String bearer(final String authorization) {
        String scheme = "Bearer ";
        return authorization.regionMatches(true, 0, scheme, 0, scheme.length())
                ? authorization.substring(scheme.length()).strip() : null;
    }
}
