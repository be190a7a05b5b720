package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;

/**
 * A command ended in CHECK CONDITION; the sense data says why (SPC-4 §4.5). Both sense data
 * formats are parsed:
 *
 * <pre>
 * Fixed format (response code 70h/71h, SPC-4 §4.5.3)     Descriptor format (72h/73h, §4.5.2)
 *  Byte 0    VALID | RESPONSE CODE                        Byte 0   Reserved | RESPONSE CODE
 *       2    FILEMARK|EOM|ILI|Rsvd| SENSE KEY (3-0)            1   Rsvd | SENSE KEY (3-0)
 *       7    ADDITIONAL SENSE LENGTH (n - 7)                   2   ADDITIONAL SENSE CODE
 *       12   ADDITIONAL SENSE CODE                             3   ADDITIONAL SENSE CODE QUALIFIER
 *       13   ADDITIONAL SENSE CODE QUALIFIER                   7   ADDITIONAL SENSE LENGTH
 * </pre>
 */
public final class ScsiCheckConditionException extends ScsiStatusException {

    public static final int STATUS_CHECK_CONDITION = 0x02;
    public static final int RESPONSE_CODE_MASK = 0x7f;
    public static final int FIXED_CURRENT = 0x70;
    public static final int FIXED_DEFERRED = 0x71;
    public static final int DESCRIPTOR_CURRENT = 0x72;
    public static final int DESCRIPTOR_DEFERRED = 0x73;
    public static final int FIXED_SENSE_KEY_OFFSET = 2;
    public static final int FIXED_ASC_OFFSET = 12;
    public static final int FIXED_ASCQ_OFFSET = 13;
    public static final int DESCRIPTOR_SENSE_KEY_OFFSET = 1;
    public static final int DESCRIPTOR_ASC_OFFSET = 2;
    public static final int DESCRIPTOR_ASCQ_OFFSET = 3;
    public static final int SENSE_KEY_MASK = 0x0f;
    /** Returned by {@link #senseKey()} etc. when the target sent no (or unparsable) sense data. */
    public static final int UNKNOWN = -1;

    private final int senseKey;
    private final int asc;
    private final int ascq;

    private ScsiCheckConditionException(final String command, final int senseKey, final int asc, final int ascq) {
        super(command + " failed: CHECK CONDITION, " + describe(senseKey, asc, ascq), STATUS_CHECK_CONDITION);
        this.senseKey = senseKey;
        this.asc = asc;
        this.ascq = ascq;
    }

    /** Builds the exception from raw sense bytes (position..limit), tolerating short or odd data. */
    public static ScsiCheckConditionException fromSense(final String command, final ByteBuffer sense) {
        ByteBuffer s = sense.slice();
        if (s.remaining() < 1) {
            return new ScsiCheckConditionException(command, UNKNOWN, UNKNOWN, UNKNOWN);
        }
        int code = s.get(0) & RESPONSE_CODE_MASK;
        if (code == FIXED_CURRENT || code == FIXED_DEFERRED) {
            return new ScsiCheckConditionException(command,
                    byteAt(s, FIXED_SENSE_KEY_OFFSET, SENSE_KEY_MASK),
                    byteAt(s, FIXED_ASC_OFFSET, 0xff), byteAt(s, FIXED_ASCQ_OFFSET, 0xff));
        }
        if (code == DESCRIPTOR_CURRENT || code == DESCRIPTOR_DEFERRED) {
            return new ScsiCheckConditionException(command,
                    byteAt(s, DESCRIPTOR_SENSE_KEY_OFFSET, SENSE_KEY_MASK),
                    byteAt(s, DESCRIPTOR_ASC_OFFSET, 0xff), byteAt(s, DESCRIPTOR_ASCQ_OFFSET, 0xff));
        }
        return new ScsiCheckConditionException(command, UNKNOWN, UNKNOWN, UNKNOWN);
    }

    /** The sense key (SPC-4 §4.5.6 table 48), or {@link #UNKNOWN}. */
    public int senseKey() {
        return senseKey;
    }

    public int asc() {
        return asc;
    }

    public int ascq() {
        return ascq;
    }

    /** Whether this is a UNIT ATTENTION, which a retry of the same command normally clears (SAM-5 §5.14). */
    public boolean isUnitAttention() {
        return senseKey == SenseKey.UNIT_ATTENTION.code();
    }

    /** Whether the command was aborted by the device server and may succeed when retried. */
    public boolean isAbortedCommand() {
        return senseKey == SenseKey.ABORTED_COMMAND.code();
    }

    private static int byteAt(final ByteBuffer s, final int offset, final int mask) {
        return offset < s.limit() ? s.get(offset) & mask : UNKNOWN;
    }

    private static String describe(final int key, final int asc, final int ascq) {
        if (key == UNKNOWN) {
            return "no usable sense data";
        }
        String keyName = String.format("0x%x", key);
        for (SenseKey k : SenseKey.values()) {
            if (k.code() == key) {
                keyName = k.name().replace('_', ' ');
            }
        }
        return String.format("sense key %s, ASC/ASCQ 0x%02x/0x%02x", keyName, Math.max(asc, 0), Math.max(ascq, 0));
    }
}
