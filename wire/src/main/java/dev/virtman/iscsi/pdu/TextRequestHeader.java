package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Text Request header, opcode 0x04 (RFC 7143 §11.10).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|I| 0x04      |F|C| Reserved                                  |
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
 * 24|  CmdSN                                                        |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpStatSN                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 32/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class TextRequestHeader extends BasicHeaderSegment {

    public static final int CONTINUE_OFFSET = 1;
    public static final int CONTINUE_BIT = 0x40;
    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int CMD_SN_OFFSET = 24;
    public static final int EXP_STAT_SN_OFFSET = 28;

    /** Wraps an existing BHS. */
    public TextRequestHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static TextRequestHeader create() {
        TextRequestHeader h = new TextRequestHeader(allocate(Opcode.TEXT_REQUEST));
        h.finalFlag(true);
        return h;
    }

    public boolean continueFlag() {
        return bit(CONTINUE_OFFSET, CONTINUE_BIT);
    }

    public TextRequestHeader continueFlag(final boolean value) {
        setBit(CONTINUE_OFFSET, CONTINUE_BIT, value);
        return this;
    }

    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public TextRequestHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int cmdSN() {
        return intAt(CMD_SN_OFFSET);
    }

    public TextRequestHeader cmdSN(final int value) {
        intAt(CMD_SN_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public TextRequestHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }
}
