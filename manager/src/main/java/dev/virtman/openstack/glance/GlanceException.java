package dev.virtman.openstack.glance;

/**
 * The Glance layer's one error type. Every failure of an import (Glance unreachable, image not
 * found or not active, a format we cannot convert, bytes that do not match Glance's hashes)
 * becomes one of these with a message an operator can act on; {@link #kind()} lets callers map
 * it to a status (the manager's REST API does).
 */
public final class GlanceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong, coarse enough to map onto an HTTP status. */
    public enum Kind {
        /** Glance or Keystone could not be reached, or answered with a server error. */
        UNAVAILABLE,
        /** Glance or Keystone refused the credentials (401/403). */
        UNAUTHORIZED,
        /** No such image in Glance. */
        NOT_FOUND,
        /** The image exists but cannot be imported (not active, unsupported format, no hashes). */
        UNSUPPORTED,
        /** The downloaded bytes do not match the size or hashes Glance recorded. */
        INTEGRITY,
        /** Local failure: disk full, qemu-img failed. */
        LOCAL
    }

    private final Kind kind;

    public GlanceException(final Kind kind, final String message) {
        this(kind, message, null);
    }

    public GlanceException(final Kind kind, final String message, final Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
