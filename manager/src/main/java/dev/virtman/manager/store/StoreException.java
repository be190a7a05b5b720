package dev.virtman.manager.store;

/** The state store failed; the change that was being written was rolled back. */
public class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final boolean unavailable;

    public StoreException(final String message, final Throwable cause) {
        this(message, cause, false);
    }

    protected StoreException(final String message, final Throwable cause, final boolean unavailable) {
        super(message, cause);
        this.unavailable = unavailable;
    }

    /** The store cannot take writes for now (etcd without quorum, not the leader): retry later, 503. */
    public static StoreException unavailable(final String message, final Throwable cause) {
        return new StoreException(message, cause, true);
    }

    public boolean unavailable() {
        return unavailable;
    }
}
