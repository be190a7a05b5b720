package dev.virtman.vm;

/** A VM could not be created, started, stopped or destroyed; the message says why, for an operator. */
public class VmException extends RuntimeException {

    public VmException(final String message) {
        super(message);
    }

    public VmException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
