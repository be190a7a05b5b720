package dev.virtman.iscsi.login;

/**
 * CHAP credentials of one target (RFC 7143 §12.1.3). The initiator must prove it knows
 * {@code secret} for {@code username}; when {@code mutualUsername} is set the target in turn
 * proves to the initiator that it knows {@code mutualSecret}.
 *
 * @param username        the name the initiator sends as CHAP_N
 * @param secret          the secret shared with the initiator
 * @param mutualUsername  the name the target answers with in mutual CHAP, or {@code null}
 * @param mutualSecret    the secret the target proves in mutual CHAP, or {@code null}
 */
public record ChapConfig(String username, String secret, String mutualUsername, String mutualSecret) {

    /** RFC 7143 §12.1.3 asks for secrets of at least 12 bytes (96 bits) when not encrypted by IPsec. */
    public static final int MIN_SECRET_LENGTH = 12;

    public ChapConfig {
        if (username == null || username.isEmpty() || secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("CHAP needs a username and a secret");
        }
        if ((mutualUsername == null) != (mutualSecret == null)) {
            throw new IllegalArgumentException("mutual CHAP needs both a username and a secret");
        }
        if (mutualSecret != null && mutualSecret.equals(secret)) {
            // §12.1.3: the two directions MUST use different secrets
            throw new IllegalArgumentException("mutual CHAP secret must differ from the initiator's secret");
        }
    }

    /** One-way CHAP: only the initiator authenticates. */
    public static ChapConfig oneWay(final String username, final String secret) {
        return new ChapConfig(username, secret, null, null);
    }

    public boolean mutual() {
        return mutualUsername != null;
    }

    @Override
    public String toString() {
        return "ChapConfig[username=" + username + ", mutual=" + mutual() + "]"; // never print secrets
    }
}
