package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.ScsiStatus;
import dev.virtman.scsi.SenseCodes;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;

/**
 * A command ended in CHECK CONDITION; the sense data says why (SPC-4 §4.5), read in either
 * format by {@link SenseCodes}.
 */
public final class ScsiCheckConditionException extends ScsiStatusException {

    /** Returned by {@link #senseKey()} etc. when the target sent no (or unparsable) sense data. */
    public static final int UNKNOWN = SenseCodes.UNKNOWN;

    private final SenseCodes codes;

    private ScsiCheckConditionException(final String command, final SenseCodes codes) {
        super(command + " failed: CHECK CONDITION, " + describe(codes), ScsiStatus.CHECK_CONDITION.code());
        this.codes = codes;
    }

    /** Builds the exception from raw sense bytes (position..limit), tolerating short or odd data. */
    public static ScsiCheckConditionException fromSense(final String command, final ByteBuffer sense) {
        return new ScsiCheckConditionException(command, SenseCodes.parse(sense));
    }

    /** The sense key (SPC-4 §4.5.6 table 48), or {@link #UNKNOWN}. */
    public int senseKey() {
        return codes.senseKey();
    }

    public int asc() {
        return codes.asc();
    }

    public int ascq() {
        return codes.ascq();
    }

    /** Whether this is a UNIT ATTENTION, which a retry of the same command normally clears (SAM-5 §5.14). */
    public boolean isUnitAttention() {
        return codes.senseKey() == SenseKey.UNIT_ATTENTION.code();
    }

    /** Whether the command was aborted by the device server and may succeed when retried. */
    public boolean isAbortedCommand() {
        return codes.senseKey() == SenseKey.ABORTED_COMMAND.code();
    }

    private static String describe(final SenseCodes codes) {
        if (codes.senseKey() == UNKNOWN) {
            return "no usable sense data";
        }
        SenseKey k = codes.key();
        String keyName = k == null ? String.format("0x%x", codes.senseKey()) : k.name().replace('_', ' ');
        return String.format("sense key %s, ASC/ASCQ 0x%02x/0x%02x", keyName, Math.max(codes.asc(), 0),
                Math.max(codes.ascq(), 0));
    }
}
