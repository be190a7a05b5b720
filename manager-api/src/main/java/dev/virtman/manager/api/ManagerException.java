package dev.virtman.manager.api;

/**
 * The manager's one error type: a rejected request, with the HTTP status it maps to. Thrown
 * before any state changes, so a rejected request leaves nothing half-applied.
 */
public final class ManagerException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why a request was rejected; each maps to one HTTP status. */
    public enum Reason {
        MALFORMED(400), UNAUTHORIZED(401), FORBIDDEN(403), NOT_FOUND(404), METHOD_NOT_ALLOWED(405), CONFLICT(409),
        TOO_LARGE(413), UNSUPPORTED_MEDIA_TYPE(415), INVALID(422), INTERNAL(500),
        /** An upstream service the manager relies on (Glance, Keystone) failed or sent bad data. */
        BAD_GATEWAY(502),
        /** The server sheds this request (too many anonymous requests at once); retry later. */
        UNAVAILABLE(503);

        private final int httpStatus;

        Reason(final int httpStatus) {
            this.httpStatus = httpStatus;
        }

        public int httpStatus() {
            return httpStatus;
        }
    }

    private final Reason reason;

    public ManagerException(final Reason reason, final String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    public static ManagerException notFound(final String message) {
        return new ManagerException(Reason.NOT_FOUND, message);
    }

    public static ManagerException invalid(final String message) {
        return new ManagerException(Reason.INVALID, message);
    }

    public static ManagerException conflict(final String message) {
        return new ManagerException(Reason.CONFLICT, message);
    }
}
