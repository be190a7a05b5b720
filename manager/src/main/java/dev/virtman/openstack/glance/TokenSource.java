package dev.virtman.openstack.glance;

/**
 * Where the Keystone token for Glance requests comes from. Glance in noauth mode needs none;
 * otherwise a fixed token ({@code --os-token-file}) or one obtained from Keystone with a password
 * ({@link KeystonePasswordAuth}), which is renewed when Glance rejects it.
 */
public interface TokenSource {

    /** The token to send as {@code X-Auth-Token}, or null to send none. */
    String token();

    /** Glance rejected {@code token} (401): forget it; returns true if a retry may get a fresh one. */
    default boolean rejected(final String token) {
        return false;
    }

    /** No authentication: Glance runs with its unauthenticated paste pipeline (tests, labs). */
    TokenSource NONE = () -> null;

    /** A token obtained elsewhere (e.g. {@code openstack token issue}); it is never renewed. */
    static TokenSource fixed(final String token) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("token is empty");
        }
        return token::strip;
    }
}
