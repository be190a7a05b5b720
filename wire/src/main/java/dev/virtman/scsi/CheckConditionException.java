package dev.virtman.scsi;

/**
 * The SCSI layer's one error type: a command ends in CHECK CONDITION with this sense data.
 * Thrown deep in command handling, caught once where a command is executed (the disk module's
 * {@code ScsiDisk.execute}); it carries no stack trace because it is an expected outcome (a bad
 * CDB from an initiator), not a bug.
 */
public final class CheckConditionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient SenseData sense;

    public CheckConditionException(final SenseData sense) {
        super(sense.senseKey() + " " + sense.additionalSense(), null, false, false);
        this.sense = sense;
    }

    public SenseData sense() {
        return sense;
    }

    public static CheckConditionException invalidFieldInCdb(final int byteOffset, final int bit) {
        return new CheckConditionException(SenseData.invalidFieldInCdb(byteOffset, bit));
    }

    public static CheckConditionException invalidFieldInParameterList(final int byteOffset, final int bit) {
        return new CheckConditionException(SenseData.invalidFieldInParameterList(byteOffset, bit));
    }

    public static CheckConditionException illegalRequest(final AdditionalSense sense) {
        return new CheckConditionException(SenseData.of(SenseKey.ILLEGAL_REQUEST, sense));
    }

    public static CheckConditionException lbaOutOfRange() {
        return illegalRequest(AdditionalSense.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
    }

    public static CheckConditionException invalidOpcode() {
        return new CheckConditionException(new SenseData(SenseKey.ILLEGAL_REQUEST,
                AdditionalSense.INVALID_COMMAND_OPERATION_CODE, null, new SenseData.FieldPointer(true, 0, -1)));
    }

    public static CheckConditionException writeProtected() {
        return new CheckConditionException(SenseData.of(SenseKey.DATA_PROTECT, AdditionalSense.WRITE_PROTECTED));
    }
}
