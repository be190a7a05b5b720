package dev.virtman.manager.store;

/**
 * A write refused because this manager does not lead (or its leadership ended: the fencing
 * comparison on the election key failed). Nothing was written.
 */
public final class NotLeaderException extends StoreException {

    private static final long serialVersionUID = 1L;

    private final String leaderUrl;

    public NotLeaderException(final String leaderUrl) {
        super(leaderUrl == null ? "this manager is not the leader and no leader is known yet; retry shortly"
                : "this manager is not the leader; send writes to " + leaderUrl, null, true);
        this.leaderUrl = leaderUrl;
    }

    /** The leader's URL, or null while none is known. */
    public String leaderUrl() {
        return leaderUrl;
    }
}
