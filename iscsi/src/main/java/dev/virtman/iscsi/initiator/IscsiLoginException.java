package dev.virtman.iscsi.initiator;

/**
 * A login the target refused (RFC 7143 §11.13.5 Status-Class / Status-Detail) or that we
 * abandoned (the target failed mutual CHAP, or answered outside the protocol).
 */
public final class IscsiLoginException extends IscsiException {

    /** Status-Class 2: the initiator is at fault; retrying the same login will not help. */
    public static final int CLASS_INITIATOR_ERROR = 0x02;
    /** Status-Class 3: the target is at fault; possibly transient. */
    public static final int CLASS_TARGET_ERROR = 0x03;
    /** Status-Class 1: the target redirects us elsewhere. */
    public static final int CLASS_REDIRECTION = 0x01;
    /** Not a status from the target: we gave up on this login ourselves. */
    public static final int LOCAL = -1;

    private static final int DETAIL_AUTHENTICATION_FAILURE = 0x01;
    private static final int DETAIL_AUTHORIZATION_FAILURE = 0x02;
    private static final int DETAIL_NOT_FOUND = 0x03;
    private static final int DETAIL_TARGET_REMOVED = 0x04;

    private final int statusClass;
    private final int statusDetail;

    public IscsiLoginException(final String message, final int statusClass, final int statusDetail) {
        super(message + (statusClass == LOCAL ? ""
                : String.format(" (login status 0x%02x%02x: %s)", statusClass, statusDetail,
                describe(statusClass, statusDetail))));
        this.statusClass = statusClass;
        this.statusDetail = statusDetail;
    }

    /** A login we abandoned on our side. */
    public static IscsiLoginException local(final String message) {
        return new IscsiLoginException(message, LOCAL, 0);
    }

    public int statusClass() {
        return statusClass;
    }

    public int statusDetail() {
        return statusDetail;
    }

    /**
     * Whether retrying the same login later could succeed: target errors (out of resources,
     * service unavailable) can; wrong credentials, a missing target or a broken peer cannot.
     */
    public boolean retryable() {
        return statusClass == CLASS_TARGET_ERROR;
    }

    /** RFC 7143 §11.13.5's table in words. */
    static String describe(final int statusClass, final int statusDetail) {
        return switch (statusClass) {
            case 0 -> "success";
            case CLASS_REDIRECTION -> "target moved";
            case CLASS_INITIATOR_ERROR -> switch (statusDetail) {
                case 0x00 -> "initiator error";
                case DETAIL_AUTHENTICATION_FAILURE -> "authentication failed";
                case DETAIL_AUTHORIZATION_FAILURE -> "not authorized for this target";
                case DETAIL_NOT_FOUND -> "target not found";
                case DETAIL_TARGET_REMOVED -> "target removed";
                case 0x05 -> "unsupported version";
                case 0x06 -> "too many connections";
                case 0x07 -> "missing parameter";
                case 0x08 -> "cannot include in session";
                case 0x09 -> "session type not supported";
                case 0x0a -> "session does not exist";
                case 0x0b -> "invalid request during login";
                default -> "initiator error";
            };
            case CLASS_TARGET_ERROR -> switch (statusDetail) {
                case 0x01 -> "service unavailable";
                case 0x02 -> "out of resources";
                default -> "target error";
            };
            default -> "unknown status class";
        };
    }
}
