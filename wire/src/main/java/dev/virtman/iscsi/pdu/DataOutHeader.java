package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * SCSI Data-Out PDU header, opcode 0x05 (RFC 7143 §11.7.1).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x05      |F| Reserved                                    |
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
 * 24|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpStatSN                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 32|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36|  DataSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 40|  Buffer Offset                                                |
 *   +---------------+---------------+---------------+---------------+
 * 44|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class DataOutHeader extends BasicHeaderSegment {

    public static final int TARGET_TRANSFER_TAG_OFFSET = 20;
    public static final int EXP_STAT_SN_OFFSET = 28;
    public static final int DATA_SN_OFFSET = 36;
    public static final int BUFFER_OFFSET_OFFSET = 40;

    /** Wraps an existing BHS. */
    public DataOutHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode set. */
    public static DataOutHeader create() {
        DataOutHeader h = new DataOutHeader(allocate(Opcode.DATA_OUT));
        return h;
    }

    /** The R2T tag, or 0xffffffff for unsolicited data. */
    public int targetTransferTag() {
        return intAt(TARGET_TRANSFER_TAG_OFFSET);
    }

    public DataOutHeader targetTransferTag(final int value) {
        intAt(TARGET_TRANSFER_TAG_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public DataOutHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }

    public int dataSN() {
        return intAt(DATA_SN_OFFSET);
    }

    public DataOutHeader dataSN(final int value) {
        intAt(DATA_SN_OFFSET, value);
        return this;
    }

    public int bufferOffset() {
        return intAt(BUFFER_OFFSET_OFFSET);
    }

    public DataOutHeader bufferOffset(final int value) {
        intAt(BUFFER_OFFSET_OFFSET, value);
        return this;
    }
}
