package dev.virtman.scsi;

/**
 * The ADDITIONAL SENSE CODE / ADDITIONAL SENSE CODE QUALIFIER pairs this device server reports
 * (SPC-4 §4.5.6 table 49 lists them all; only those we use are here).
 */
public enum AdditionalSense {
    NO_ADDITIONAL_SENSE_INFORMATION(0x00, 0x00),
    LOGICAL_UNIT_NOT_READY_INITIALIZING_COMMAND_REQUIRED(0x04, 0x02),
    WRITE_ERROR(0x0C, 0x00),
    /** SAM-5 / FCP-4: the data-out buffer is shorter than the CDB's transfer length. */
    INVALID_FIELD_IN_INFORMATION_UNIT(0x0E, 0x03),
    UNRECOVERED_READ_ERROR(0x11, 0x00),
    MISCOMPARE_DURING_VERIFY_OPERATION(0x1D, 0x00),
    PARAMETER_LIST_LENGTH_ERROR(0x1A, 0x00),
    INVALID_COMMAND_OPERATION_CODE(0x20, 0x00),
    LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE(0x21, 0x00),
    INVALID_FIELD_IN_CDB(0x24, 0x00),
    LOGICAL_UNIT_NOT_SUPPORTED(0x25, 0x00),
    INVALID_FIELD_IN_PARAMETER_LIST(0x26, 0x00),
    WRITE_PROTECTED(0x27, 0x00),
    SAVING_PARAMETERS_NOT_SUPPORTED(0x39, 0x00),
    MEDIUM_NOT_PRESENT(0x3A, 0x00),
    MEDIUM_REMOVAL_PREVENTED(0x53, 0x02),
    INTERNAL_TARGET_FAILURE(0x44, 0x00),
    /** The transport could not complete the data transfer (a broken Data-Out sequence). */
    DATA_PHASE_ERROR(0x4B, 0x00);

    private final int asc;
    private final int ascq;

    AdditionalSense(final int asc, final int ascq) {
        this.asc = asc;
        this.ascq = ascq;
    }

    public int asc() {
        return asc;
    }

    public int ascq() {
        return ascq;
    }
}
