package dev.virtman.manager.store;

/** The state database failed; the change that was being written was rolled back. */
public final class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StoreException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
