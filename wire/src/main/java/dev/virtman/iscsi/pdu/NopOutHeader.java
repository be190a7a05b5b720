package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * NOP-Out header, opcode 0x00 (ping from the initiator, or its answer to a target NOP-In) (RFC 7143 §11.18).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|I| 0x00      |1| Reserved                                    |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| LUN or Reserved                                               |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag or 0xffffffff                             |
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
public final class NopOutHeader extends BasicHeaderSegment {

    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int CMD_SN_OFFSET = 24;
    public static final int EXP_STAT_SN_OFFSET = 28;

    /** Wraps an existing BHS. */
    public NopOutHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static NopOutHeader create() {
        NopOutHeader h = new NopOutHeader(allocate(Opcode.NOP_OUT));
        h.finalFlag(true);
        return h;
    }

    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public NopOutHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int cmdSN() {
        return intAt(CMD_SN_OFFSET);
    }

    public NopOutHeader cmdSN(final int value) {
        intAt(CMD_SN_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public NopOutHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }
}
