package dev.virtman.iscsi.initiator;

import java.io.IOException;

/**
 * The initiator's transport-level failure: the session could not be (re-)established, the
 * target broke the protocol, or a command outlived its recovery deadline. SCSI-level failures
 * (a command that reached the device and ended badly) are {@link ScsiStatusException}s instead.
 */
public class IscsiException extends IOException {

    public IscsiException(final String message) {
        super(message);
    }

    public IscsiException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
