package dev.virtman.iscsi.initiator;

import java.io.IOException;

/**
 * A command reached the logical unit and ended with a status other than GOOD (SAM-5 §5.3):
 * BUSY, TASK SET FULL, RESERVATION CONFLICT, ... CHECK CONDITION is the subclass
 * {@link ScsiCheckConditionException}, which carries the sense data.
 */
public class ScsiStatusException extends IOException {

    public static final int BUSY = 0x08;
    public static final int TASK_SET_FULL = 0x28;

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
        return switch (status) {
            case 0x00 -> "GOOD";
            case 0x02 -> "CHECK CONDITION";
            case 0x04 -> "CONDITION MET";
            case 0x08 -> "BUSY";
            case 0x18 -> "RESERVATION CONFLICT";
            case 0x28 -> "TASK SET FULL";
            case 0x30 -> "ACA ACTIVE";
            case 0x40 -> "TASK ABORTED";
            default -> String.format("0x%02x", status);
        };
    }
}
