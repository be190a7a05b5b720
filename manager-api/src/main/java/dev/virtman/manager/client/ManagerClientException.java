package dev.virtman.manager.client;

/**
 * A manager call failed: unreachable, unauthorized, or the request was refused.
 *
 * @see #status()
 */
public final class ManagerClientException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Status for failures that never got an HTTP reply. */
    public static final int NO_REPLY = 0;

    private final int status;
    private boolean notSent;

    public ManagerClientException(final int status, final String message, final Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** Marks a failure before the request left (no connection): another manager may safely take it. */
    ManagerClientException markNotSent() {
        notSent = true;
        return this;
    }

    /** Whether the request never reached a manager (connection refused or timed out). */
    public boolean notSent() {
        return notSent;
    }

    /** HTTP status of the reply, or {@link #NO_REPLY}. */
    public int status() {
        return status;
    }
}
