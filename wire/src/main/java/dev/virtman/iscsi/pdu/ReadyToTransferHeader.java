package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Ready To Transfer (R2T) header, opcode 0x31 (RFC 7143 §11.8).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x31      |1| Reserved                                    |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| Logical Unit Number (LUN)                                     |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Target Transfer Tag                                          |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36|  R2TSN                                                        |
 *   +---------------+---------------+---------------+---------------+
 * 40|  Buffer Offset                                                |
 *   +---------------+---------------+---------------+---------------+
 * 44|  Desired Data Transfer Length                                 |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class ReadyToTransferHeader extends BasicHeaderSegment {

    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int R2T_SN_OFFSET = 36;
    public static final int BUFFER_OFFSET_OFFSET = 40;
    public static final int DESIRED_DATA_TRANSFER_LENGTH_OFFSET = 44;

    /** Wraps an existing BHS. */
    public ReadyToTransferHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static ReadyToTransferHeader create() {
        ReadyToTransferHeader h = new ReadyToTransferHeader(allocate(Opcode.READY_TO_TRANSFER));
        h.finalFlag(true);
        return h;
    }

    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public ReadyToTransferHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public ReadyToTransferHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public ReadyToTransferHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public ReadyToTransferHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    public int r2tSN() {
        return intAt(R2T_SN_OFFSET);
    }

    public ReadyToTransferHeader r2tSN(final int value) {
        intAt(R2T_SN_OFFSET, value);
        return this;
    }

    public int bufferOffset() {
        return intAt(BUFFER_OFFSET_OFFSET);
    }

    public ReadyToTransferHeader bufferOffset(final int value) {
        intAt(BUFFER_OFFSET_OFFSET, value);
        return this;
    }

    public int desiredDataTransferLength() {
        return intAt(DESIRED_DATA_TRANSFER_LENGTH_OFFSET);
    }

    public ReadyToTransferHeader desiredDataTransferLength(final int value) {
        intAt(DESIRED_DATA_TRANSFER_LENGTH_OFFSET, value);
        return this;
    }
}
