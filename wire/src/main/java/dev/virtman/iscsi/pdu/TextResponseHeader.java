package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Text Response header, opcode 0x24 (RFC 7143 §11.11).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x24      |F|C| Reserved                                  |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| Logical Unit Number (LUN) or Reserved                         |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Target Transfer Tag or 0xffffffff                            |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class TextResponseHeader extends BasicHeaderSegment {

    public static final int CONTINUE_OFFSET = 1;
    public static final int CONTINUE_BIT = 0x40;
    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;

    /** Wraps an existing BHS. */
    public TextResponseHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static TextResponseHeader create() {
        TextResponseHeader h = new TextResponseHeader(allocate(Opcode.TEXT_RESPONSE));
        h.finalFlag(true);
        return h;
    }

    public boolean continueFlag() {
        return bit(CONTINUE_OFFSET, CONTINUE_BIT);
    }

    public TextResponseHeader continueFlag(final boolean value) {
        setBit(CONTINUE_OFFSET, CONTINUE_BIT, value);
        return this;
    }

    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public TextResponseHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public TextResponseHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public TextResponseHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public TextResponseHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }
}
