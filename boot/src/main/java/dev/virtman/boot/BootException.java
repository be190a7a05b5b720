package dev.virtman.boot;

/** A boot could not be set up or run; the message says what to do about it. */
public final class BootException extends RuntimeException {
    public BootException(final String message) {
        super(message);
    }

    public BootException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
