package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * SNACK Request header, opcode 0x10 (only meaningful at ErrorRecoveryLevel &gt; 0) (RFC 7143 §11.16).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x10      |1|.|.|.| Type  | Reserved                      |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| LUN or Reserved                                               |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag or 0xffffffff                             |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Target Transfer Tag or SNACK Tag or 0xffffffff               |
 *   +---------------+---------------+---------------+---------------+
 * 24|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpStatSN                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 32/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 40|  BegRun                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 44|  RunLength                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class SnackRequestHeader extends BasicHeaderSegment {

    public static final int TYPE_OFFSET = 1;
    public static final int TYPE_MASK = 0x0f;
    public static final int TYPE_SHIFT = 0;
    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int EXP_STAT_SN_OFFSET = 28;
    public static final int BEG_RUN_OFFSET = 40;
    public static final int RUN_LENGTH_OFFSET = 44;

    /** Wraps an existing BHS. */
    public SnackRequestHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static SnackRequestHeader create() {
        SnackRequestHeader h = new SnackRequestHeader(allocate(Opcode.SNACK_REQUEST));
        h.finalFlag(true);
        return h;
    }

    public int type() {
        return (unsignedByteAt(TYPE_OFFSET) & TYPE_MASK) >>> TYPE_SHIFT;
    }

    public SnackRequestHeader type(final int value) {
        int other = unsignedByteAt(TYPE_OFFSET) & ~TYPE_MASK;
        unsignedByteAt(TYPE_OFFSET, other | (value << TYPE_SHIFT) & TYPE_MASK);
        return this;
    }

    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public SnackRequestHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public SnackRequestHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }

    public int begRun() {
        return intAt(BEG_RUN_OFFSET);
    }

    public SnackRequestHeader begRun(final int value) {
        intAt(BEG_RUN_OFFSET, value);
        return this;
    }

    public int runLength() {
        return intAt(RUN_LENGTH_OFFSET);
    }

    public SnackRequestHeader runLength(final int value) {
        intAt(RUN_LENGTH_OFFSET, value);
        return this;
    }
}
