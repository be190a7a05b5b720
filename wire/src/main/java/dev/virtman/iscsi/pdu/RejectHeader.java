package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Reject PDU header, opcode 0x3f; its data segment holds the complete header of the rejected PDU (RFC 7143 §11.17).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x3f      |1| Reserved    | Reason        | Reserved      |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8/ Reserved                                                      /
 *   +---------------+---------------+---------------+---------------+
 * 16|  0xffffffff                                                   |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36|  DataSN/R2TSN or Reserved                                     |
 *   +---------------+---------------+---------------+---------------+
 * 40/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class RejectHeader extends BasicHeaderSegment {

    public static final int REASON_OFFSET = 2;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int DATA_SN_OFFSET = 36;

    /** Wraps an existing BHS. */
    public RejectHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static RejectHeader create() {
        RejectHeader h = new RejectHeader(allocate(Opcode.REJECT));
        h.finalFlag(true);
        return h;
    }

    /** Reason code, see {@link RejectReason}. */
    public int reason() {
        return unsignedByteAt(REASON_OFFSET);
    }

    public RejectHeader reason(final int value) {
        unsignedByteAt(REASON_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public RejectHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public RejectHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public RejectHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    public int dataSN() {
        return intAt(DATA_SN_OFFSET);
    }

    public RejectHeader dataSN(final int value) {
        intAt(DATA_SN_OFFSET, value);
        return this;
    }
}
