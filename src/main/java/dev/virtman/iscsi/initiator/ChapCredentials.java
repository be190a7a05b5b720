package dev.virtman.iscsi.initiator;

/**
 * What the initiator knows for CHAP (RFC 7143 §12.1.3): the name and secret it proves itself
 * with, and, for mutual CHAP, the name and secret the target must prove in return.
 *
 * @param username       CHAP_N the initiator sends
 * @param secret         the secret the initiator proves it knows
 * @param targetUsername the CHAP_N the target must answer with (mutual CHAP), or {@code null}
 * @param targetSecret   the secret the target must prove (mutual CHAP), or {@code null}
 */
public record ChapCredentials(String username, String secret, String targetUsername, String targetSecret) {

    public ChapCredentials {
        if (username == null || username.isEmpty() || secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("CHAP needs a user name and a secret");
        }
        if ((targetUsername == null) != (targetSecret == null)) {
            throw new IllegalArgumentException("mutual CHAP needs both the target's user name and secret");
        }
        if (targetSecret != null && targetSecret.equals(secret)) {
            // RFC 7143 §12.1.3: the secrets of the two directions MUST differ
            throw new IllegalArgumentException("mutual CHAP: the target's secret must differ from the initiator's");
        }
    }

    /** One-way CHAP: only the initiator proves itself. */
    public static ChapCredentials oneWay(final String username, final String secret) {
        return new ChapCredentials(username, secret, null, null);
    }

    /** Mutual CHAP: the initiator also challenges the target. */
    public static ChapCredentials mutual(final String username, final String secret,
                                         final String targetUsername, final String targetSecret) {
        return new ChapCredentials(username, secret, targetUsername, targetSecret);
    }

    public boolean isMutual() {
        return targetUsername != null;
    }

    @Override
    public String toString() {
        return "ChapCredentials[username=" + username + ", mutual=" + isMutual() + "]"; // never print secrets
    }
}
