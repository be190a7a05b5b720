package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.ScsiStatus;
import java.io.IOException;

/**
 * A command reached the logical unit and ended with a status other than GOOD (SAM-5 §5.3):
 * BUSY, TASK SET FULL, RESERVATION CONFLICT, ... CHECK CONDITION is the subclass
 * {@link ScsiCheckConditionException}, which carries the sense data.
 */
public class ScsiStatusException extends IOException {

    public static final int BUSY = ScsiStatus.BUSY.code();
    public static final int TASK_SET_FULL = ScsiStatus.TASK_SET_FULL.code();

    private final int status;

    protected ScsiStatusException(final String message, final int status) {
        super(message);
        this.status = status;
    }

    /** {@code command} ended with {@code status} (not CHECK CONDITION, which has sense data). */
    public static ScsiStatusException of(final String command, final int status) {
        return new ScsiStatusException(command + " ended with SCSI status " + statusName(status), status);
    }

    /** Whether the same command may succeed later: BUSY and TASK SET FULL are flow control (SAM-5 §5.3). */
    public boolean isTransient() {
        return status == BUSY || status == TASK_SET_FULL;
    }

    /** The SAM status byte. */
    public int status() {
        return status;
    }

    static String statusName(final int status) {
        return ScsiStatus.label(status);
    }
}
