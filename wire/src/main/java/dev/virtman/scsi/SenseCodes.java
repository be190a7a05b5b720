package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * What an initiator reads from the sense data of a CHECK CONDITION (SPC-4 §4.5): the sense key
 * and the ASC/ASCQ pair, from either format, tolerating short or odd data. The device server's
 * side builds sense as {@link SenseData}.
 *
 * <pre>
 * Fixed format (response code 70h/71h, SPC-4 §4.5.3)     Descriptor format (72h/73h, §4.5.2)
 *  Byte 0    VALID | RESPONSE CODE                        Byte 0   Reserved | RESPONSE CODE
 *       2    FILEMARK|EOM|ILI|Rsvd| SENSE KEY (3-0)            1   Rsvd | SENSE KEY (3-0)
 *       7    ADDITIONAL SENSE LENGTH (n - 7)                   2   ADDITIONAL SENSE CODE
 *       12   ADDITIONAL SENSE CODE                             3   ADDITIONAL SENSE CODE QUALIFIER
 *       13   ADDITIONAL SENSE CODE QUALIFIER                   7   ADDITIONAL SENSE LENGTH
 * </pre>
 *
 * @param senseKey the sense key (SPC-4 §4.5.6 table 48), or {@link #UNKNOWN}
 * @param asc      the additional sense code, or {@link #UNKNOWN}
 * @param ascq     its qualifier, or {@link #UNKNOWN}
 */
public record SenseCodes(int senseKey, int asc, int ascq) {

    /** A field the sense data did not carry (none sent, too short, or an unknown format). */
    public static final int UNKNOWN = -1;
    public static final SenseCodes NONE = new SenseCodes(UNKNOWN, UNKNOWN, UNKNOWN);

    static final int RESPONSE_CODE_MASK = 0x7f;
    static final int FIXED_CURRENT = SenseData.RESPONSE_CODE_CURRENT_FIXED;
    static final int FIXED_DEFERRED = 0x71;
    static final int DESCRIPTOR_CURRENT = 0x72;
    static final int DESCRIPTOR_DEFERRED = 0x73;
    static final int DESCRIPTOR_SENSE_KEY_OFFSET = 1;
    static final int DESCRIPTOR_ASC_OFFSET = 2;
    static final int DESCRIPTOR_ASCQ_OFFSET = 3;
    static final int DESCRIPTOR_HEADER_LENGTH = 8;
    private static final int SENSE_KEY_MASK = 0x0f;

    /** Reads the codes from sense bytes (position..limit). */
    public static SenseCodes parse(final ByteBuffer sense) {
        ByteBuffer s = sense.slice();
        if (s.remaining() < 1) {
            return NONE;
        }
        int code = s.get(0) & RESPONSE_CODE_MASK;
        if (code == FIXED_CURRENT || code == FIXED_DEFERRED) {
            return new SenseCodes(byteAt(s, SenseData.SENSE_KEY_OFFSET, SENSE_KEY_MASK),
                    byteAt(s, SenseData.ASC_OFFSET, 0xff), byteAt(s, SenseData.ASCQ_OFFSET, 0xff));
        }
        if (code == DESCRIPTOR_CURRENT || code == DESCRIPTOR_DEFERRED) {
            return new SenseCodes(byteAt(s, DESCRIPTOR_SENSE_KEY_OFFSET, SENSE_KEY_MASK),
                    byteAt(s, DESCRIPTOR_ASC_OFFSET, 0xff), byteAt(s, DESCRIPTOR_ASCQ_OFFSET, 0xff));
        }
        return NONE;
    }

    /** The sense key as the enum, or null when unknown or undefined. */
    public SenseKey key() {
        for (SenseKey k : SenseKey.values()) {
            if (k.code() == senseKey) {
                return k;
            }
        }
        return null;
    }

    private static int byteAt(final ByteBuffer s, final int offset, final int mask) {
        return offset < s.limit() ? s.get(offset) & mask : UNKNOWN;
    }
}
