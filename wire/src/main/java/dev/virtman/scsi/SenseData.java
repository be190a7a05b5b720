package dev.virtman.scsi;

/**
 * Fixed-format sense data (SPC-4 §4.5.3), the bytes a CHECK CONDITION carries.
 *
 * <pre>
 *  Byte   7       6       5       4       3       2       1       0
 *      +-------+---------------------------------------------------+
 *   0  | VALID |            RESPONSE CODE (70h current)            |
 *      +-------+---------------------------------------------------+
 *   1  |                       Obsolete                            |
 *      +-------+-------+-------+-------+---------------------------+
 *   2  |FILEMRK|  EOM  |  ILI  | Rsvd  |        SENSE KEY          |
 *      +-------+-------+-------+-------+---------------------------+
 *  3-6 |                INFORMATION (big-endian)                   |
 *   7  |             ADDITIONAL SENSE LENGTH (n - 7)               |
 * 8-11 |             COMMAND-SPECIFIC INFORMATION                  |
 *  12  |             ADDITIONAL SENSE CODE                         |
 *  13  |             ADDITIONAL SENSE CODE QUALIFIER               |
 *  14  |             FIELD REPLACEABLE UNIT CODE                   |
 *      +-------+-------------------------------------------+-------+
 *  15  | SKSV  |  SENSE KEY SPECIFIC (for ILLEGAL REQUEST: C/D(6), BPV(3), BIT POINTER(2-0))
 * 16-17|             FIELD POINTER (byte of the offending field)   |
 *      +-----------------------------------------------------------+
 * </pre>
 *
 * <p>For ILLEGAL REQUEST the sense-key specific bytes are the field pointer of SPC-4 §4.5.2.4.2:
 * C/D says whether the bad field is in the CDB (1) or the parameter list (0).
 *
 * @param senseKey        the sense key
 * @param additionalSense the ASC/ASCQ pair
 * @param information     the INFORMATION field (VALID = 1) or {@code null}
 * @param fieldPointer    the sense-key specific field pointer or {@code null}
 */
public record SenseData(SenseKey senseKey, AdditionalSense additionalSense, Long information,
                        FieldPointer fieldPointer) {

    /** Length of fixed-format sense data with the standard additional sense length of 10. */
    public static final int LENGTH = 18;
    public static final int RESPONSE_CODE_OFFSET = 0;
    public static final int SENSE_KEY_OFFSET = 2;
    public static final int INFORMATION_OFFSET = 3;
    public static final int ADDITIONAL_LENGTH_OFFSET = 7;
    public static final int ASC_OFFSET = 12;
    public static final int ASCQ_OFFSET = 13;
    public static final int SENSE_KEY_SPECIFIC_OFFSET = 15;
    public static final int FIELD_POINTER_OFFSET = 16;

    /** Response code 70h: current error, fixed format. */
    public static final int RESPONSE_CODE_CURRENT_FIXED = 0x70;
    private static final int VALID = 0x80;
    private static final int SKSV = 0x80;
    private static final int CD = 0x40;
    private static final int BPV = 0x08;
    private static final int BIT_POINTER_MASK = 0x07;
    private static final int SENSE_KEY_MASK = 0x0F;
    private static final long INFORMATION_MAX = 0xFFFF_FFFFL;

    /**
     * Points at the offending field (SPC-4 §4.5.2.4.2).
     *
     * @param inCdb      true when the field is in the CDB, false in the parameter data
     * @param byteOffset the byte holding the field's most significant bit
     * @param bit        the bit within that byte (0-7), or -1 when the whole byte(s) are wrong
     */
    public record FieldPointer(boolean inCdb, int byteOffset, int bit) {
    }

    public static SenseData of(final SenseKey key, final AdditionalSense sense) {
        return new SenseData(key, sense, null, null);
    }

    /** ILLEGAL REQUEST / INVALID FIELD IN CDB pointing at {@code byteOffset}/{@code bit} of the CDB. */
    public static SenseData invalidFieldInCdb(final int byteOffset, final int bit) {
        return new SenseData(SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_CDB, null,
                new FieldPointer(true, byteOffset, bit));
    }

    /** ILLEGAL REQUEST / INVALID FIELD IN PARAMETER LIST pointing into the data-out buffer. */
    public static SenseData invalidFieldInParameterList(final int byteOffset, final int bit) {
        return new SenseData(SenseKey.ILLEGAL_REQUEST, AdditionalSense.INVALID_FIELD_IN_PARAMETER_LIST,
                null, new FieldPointer(false, byteOffset, bit));
    }

    public SenseData withInformation(final long value) {
        return new SenseData(senseKey, additionalSense, value, fieldPointer);
    }

    /**
     * The 8-byte header of descriptor-format sense data (SPC-4 §4.5.2, response code 72h) with no
     * descriptors: response code, sense key, ASC, ASCQ, additional length 0.
     */
    public byte[] toDescriptorHeader() {
        byte[] b = new byte[SenseCodes.DESCRIPTOR_HEADER_LENGTH];
        b[RESPONSE_CODE_OFFSET] = (byte) SenseCodes.DESCRIPTOR_CURRENT;
        b[SenseCodes.DESCRIPTOR_SENSE_KEY_OFFSET] = (byte) (senseKey.code() & SENSE_KEY_MASK);
        b[SenseCodes.DESCRIPTOR_ASC_OFFSET] = (byte) additionalSense.asc();
        b[SenseCodes.DESCRIPTOR_ASCQ_OFFSET] = (byte) additionalSense.ascq();
        return b;
    }

    /** The 18 fixed-format bytes. */
    public byte[] toBytes() {
        byte[] b = new byte[LENGTH];
        boolean valid = information != null && information >= 0 && information <= INFORMATION_MAX;
        b[RESPONSE_CODE_OFFSET] = (byte) (RESPONSE_CODE_CURRENT_FIXED | (valid ? VALID : 0));
        b[SENSE_KEY_OFFSET] = (byte) (senseKey.code() & SENSE_KEY_MASK);
        if (valid) {
            long v = information;
            b[INFORMATION_OFFSET] = (byte) (v >>> 24);
            b[INFORMATION_OFFSET + 1] = (byte) (v >>> 16);
            b[INFORMATION_OFFSET + 2] = (byte) (v >>> 8);
            b[INFORMATION_OFFSET + 3] = (byte) v;
        }
        b[ADDITIONAL_LENGTH_OFFSET] = (byte) (LENGTH - (ADDITIONAL_LENGTH_OFFSET + 1));
        b[ASC_OFFSET] = (byte) additionalSense.asc();
        b[ASCQ_OFFSET] = (byte) additionalSense.ascq();
        if (fieldPointer != null) {
            int sks = SKSV | (fieldPointer.inCdb() ? CD : 0);
            if (fieldPointer.bit() >= 0) {
                sks |= BPV | (fieldPointer.bit() & BIT_POINTER_MASK);
            }
            b[SENSE_KEY_SPECIFIC_OFFSET] = (byte) sks;
            b[FIELD_POINTER_OFFSET] = (byte) (fieldPointer.byteOffset() >>> 8);
            b[FIELD_POINTER_OFFSET + 1] = (byte) fieldPointer.byteOffset();
        }
        return b;
    }
}
