package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * SCSI Response PDU header, opcode 0x21; its data segment holds SenseLength (2 bytes) then sense data (§11.4.7) (RFC 7143 §11.4).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x21      |1|. .|o|u|O|U|.| Response      | Status        |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| Reserved                                                      |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  SNACK Tag                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36|  ExpDataSN                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 40|  Bidirectional Read Residual Count                            |
 *   +---------------+---------------+---------------+---------------+
 * 44|  Residual Count                                               |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class ScsiResponseHeader extends BasicHeaderSegment {

    public static final int BIDI_OVERFLOW_OFFSET = 1;
    public static final int BIDI_OVERFLOW_BIT = 0x10;
    public static final int BIDI_UNDERFLOW_OFFSET = 1;
    public static final int BIDI_UNDERFLOW_BIT = 0x08;
    public static final int RESIDUAL_OVERFLOW_OFFSET = 1;
    public static final int RESIDUAL_OVERFLOW_BIT = 0x04;
    public static final int RESIDUAL_UNDERFLOW_OFFSET = 1;
    public static final int RESIDUAL_UNDERFLOW_BIT = 0x02;
    public static final int RESPONSE_OFFSET = 2;
    public static final int STATUS_OFFSET = 3;
    public static final int SNACK_TAG_OFFSET = 20;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int EXP_DATA_SN_OFFSET = 36;
    public static final int BIDI_READ_RESIDUAL_COUNT_OFFSET = 40;
    public static final int RESIDUAL_COUNT_OFFSET = 44;

    /** Wraps an existing BHS. */
    public ScsiResponseHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static ScsiResponseHeader create() {
        ScsiResponseHeader h = new ScsiResponseHeader(allocate(Opcode.SCSI_RESPONSE));
        h.finalFlag(true);
        return h;
    }

    public boolean bidiReadOverflow() {
        return bit(BIDI_OVERFLOW_OFFSET, BIDI_OVERFLOW_BIT);
    }

    public ScsiResponseHeader bidiReadOverflow(final boolean value) {
        setBit(BIDI_OVERFLOW_OFFSET, BIDI_OVERFLOW_BIT, value);
        return this;
    }

    public boolean bidiReadUnderflow() {
        return bit(BIDI_UNDERFLOW_OFFSET, BIDI_UNDERFLOW_BIT);
    }

    public ScsiResponseHeader bidiReadUnderflow(final boolean value) {
        setBit(BIDI_UNDERFLOW_OFFSET, BIDI_UNDERFLOW_BIT, value);
        return this;
    }

    /** O bit: the command wanted to transfer more than the Expected Data Transfer Length. */
    public boolean residualOverflow() {
        return bit(RESIDUAL_OVERFLOW_OFFSET, RESIDUAL_OVERFLOW_BIT);
    }

    public ScsiResponseHeader residualOverflow(final boolean value) {
        setBit(RESIDUAL_OVERFLOW_OFFSET, RESIDUAL_OVERFLOW_BIT, value);
        return this;
    }

    /** U bit: the command transferred less than the Expected Data Transfer Length. */
    public boolean residualUnderflow() {
        return bit(RESIDUAL_UNDERFLOW_OFFSET, RESIDUAL_UNDERFLOW_BIT);
    }

    public ScsiResponseHeader residualUnderflow(final boolean value) {
        setBit(RESIDUAL_UNDERFLOW_OFFSET, RESIDUAL_UNDERFLOW_BIT, value);
        return this;
    }

    /** iSCSI service response: 0x00 command completed at target, 0x01 target failure. */
    public int response() {
        return unsignedByteAt(RESPONSE_OFFSET);
    }

    public ScsiResponseHeader response(final int value) {
        unsignedByteAt(RESPONSE_OFFSET, value);
        return this;
    }

    /** SAM status byte, valid when response is 0x00. */
    public int status() {
        return unsignedByteAt(STATUS_OFFSET);
    }

    public ScsiResponseHeader status(final int value) {
        unsignedByteAt(STATUS_OFFSET, value);
        return this;
    }

    public int snackTag() {
        return intAt(SNACK_TAG_OFFSET);
    }

    public ScsiResponseHeader snackTag(final int value) {
        intAt(SNACK_TAG_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public ScsiResponseHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public ScsiResponseHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public ScsiResponseHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    public int expDataSN() {
        return intAt(EXP_DATA_SN_OFFSET);
    }

    public ScsiResponseHeader expDataSN(final int value) {
        intAt(EXP_DATA_SN_OFFSET, value);
        return this;
    }

    public int bidiReadResidualCount() {
        return intAt(BIDI_READ_RESIDUAL_COUNT_OFFSET);
    }

    public ScsiResponseHeader bidiReadResidualCount(final int value) {
        intAt(BIDI_READ_RESIDUAL_COUNT_OFFSET, value);
        return this;
    }

    public int residualCount() {
        return intAt(RESIDUAL_COUNT_OFFSET);
    }

    public ScsiResponseHeader residualCount(final int value) {
        intAt(RESIDUAL_COUNT_OFFSET, value);
        return this;
    }

    /** Response code: command completed at target (§11.4.3). */
    public static final int RESPONSE_COMPLETED = 0x00;
    /** Response code: target failure (§11.4.3). */
    public static final int RESPONSE_TARGET_FAILURE = 0x01;
}
