package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * SCSI Data-In PDU header, opcode 0x25 (RFC 7143 §11.7.2).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x25      |F|A|0 0 0|O|U|S| Reserved      |Status or Rsvd |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| LUN or Reserved                                               |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Target Transfer Tag or 0xffffffff                            |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN or Reserved                                           |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36|  DataSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 40|  Buffer Offset                                                |
 *   +---------------+---------------+---------------+---------------+
 * 44|  Residual Count                                               |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class DataInHeader extends BasicHeaderSegment {

    public static final int ACKNOWLEDGE_OFFSET = 1;
    public static final int ACKNOWLEDGE_BIT = 0x40;
    public static final int RESIDUAL_OVERFLOW_OFFSET = 1;
    public static final int RESIDUAL_OVERFLOW_BIT = 0x04;
    public static final int RESIDUAL_UNDERFLOW_OFFSET = 1;
    public static final int RESIDUAL_UNDERFLOW_BIT = 0x02;
    public static final int STATUS_PRESENT_OFFSET = 1;
    public static final int STATUS_PRESENT_BIT = 0x01;
    public static final int STATUS_OFFSET = 3;
    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int DATA_SN_OFFSET = 36;
    public static final int BUFFER_OFFSET_OFFSET = 40;
    public static final int RESIDUAL_COUNT_OFFSET = 44;

    /** Wraps an existing BHS. */
    public DataInHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode set. */
    public static DataInHeader create() {
        DataInHeader h = new DataInHeader(allocate(Opcode.DATA_IN));
        return h;
    }

    public boolean acknowledge() {
        return bit(ACKNOWLEDGE_OFFSET, ACKNOWLEDGE_BIT);
    }

    public DataInHeader acknowledge(final boolean value) {
        setBit(ACKNOWLEDGE_OFFSET, ACKNOWLEDGE_BIT, value);
        return this;
    }

    public boolean residualOverflow() {
        return bit(RESIDUAL_OVERFLOW_OFFSET, RESIDUAL_OVERFLOW_BIT);
    }

    public DataInHeader residualOverflow(final boolean value) {
        setBit(RESIDUAL_OVERFLOW_OFFSET, RESIDUAL_OVERFLOW_BIT, value);
        return this;
    }

    public boolean residualUnderflow() {
        return bit(RESIDUAL_UNDERFLOW_OFFSET, RESIDUAL_UNDERFLOW_BIT);
    }

    public DataInHeader residualUnderflow(final boolean value) {
        setBit(RESIDUAL_UNDERFLOW_OFFSET, RESIDUAL_UNDERFLOW_BIT, value);
        return this;
    }

    /** S bit: this PDU also carries the command status (phase collapse, §11.7.4). */
    public boolean statusPresent() {
        return bit(STATUS_PRESENT_OFFSET, STATUS_PRESENT_BIT);
    }

    public DataInHeader statusPresent(final boolean value) {
        setBit(STATUS_PRESENT_OFFSET, STATUS_PRESENT_BIT, value);
        return this;
    }

    public int status() {
        return unsignedByteAt(STATUS_OFFSET);
    }

    public DataInHeader status(final int value) {
        unsignedByteAt(STATUS_OFFSET, value);
        return this;
    }

    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public DataInHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public DataInHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public DataInHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public DataInHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    public int dataSN() {
        return intAt(DATA_SN_OFFSET);
    }

    public DataInHeader dataSN(final int value) {
        intAt(DATA_SN_OFFSET, value);
        return this;
    }

    public int bufferOffset() {
        return intAt(BUFFER_OFFSET_OFFSET);
    }

    public DataInHeader bufferOffset(final int value) {
        intAt(BUFFER_OFFSET_OFFSET, value);
        return this;
    }

    public int residualCount() {
        return intAt(RESIDUAL_COUNT_OFFSET);
    }

    public DataInHeader residualCount(final int value) {
        intAt(RESIDUAL_COUNT_OFFSET, value);
        return this;
    }
}
