package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Login Request header, opcode 0x03 (always with the I bit) (RFC 7143 §11.12).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|1| 0x03      |T|C|.|.|CSG|NSG| Version-max   | Version-min   |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| ISID                                                          |
 *   +                               +---------------+---------------+
 * 12|                               | TSIH                          |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  CID                          | Reserved                      |
 *   +---------------+---------------+---------------+---------------+
 * 24|  CmdSN                                                        |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpStatSN or Reserved                                        |
 *   +---------------+---------------+---------------+---------------+
 * 32/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class LoginRequestHeader extends BasicHeaderSegment {

    public static final int TRANSIT_OFFSET = 1;
    public static final int TRANSIT_BIT = 0x80;
    public static final int CONTINUE_OFFSET = 1;
    public static final int CONTINUE_BIT = 0x40;
    public static final int CURRENT_STAGE_OFFSET = 1;
    public static final int CURRENT_STAGE_MASK = 0x0c;
    public static final int CURRENT_STAGE_SHIFT = 2;
    public static final int NEXT_STAGE_OFFSET = 1;
    public static final int NEXT_STAGE_MASK = 0x03;
    public static final int NEXT_STAGE_SHIFT = 0;
    public static final int VERSION_MAX_OFFSET = 2;
    public static final int VERSION_MIN_OFFSET = 3;
    public static final int TSIH_OFFSET = 14;
    public static final int CID_OFFSET = 20;
    public static final int CMD_SN_OFFSET = 24;
    public static final int EXP_STAT_SN_OFFSET = 28;

    /** Wraps an existing BHS. */
    public LoginRequestHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode set. */
    public static LoginRequestHeader create() {
        LoginRequestHeader h = new LoginRequestHeader(allocate(Opcode.LOGIN_REQUEST));
        h.immediate(true);
        return h;
    }

    /** T bit: the initiator is ready to move to the next stage NSG. */
    public boolean transit() {
        return bit(TRANSIT_OFFSET, TRANSIT_BIT);
    }

    public LoginRequestHeader transit(final boolean value) {
        setBit(TRANSIT_OFFSET, TRANSIT_BIT, value);
        return this;
    }

    /** C bit: the text in this PDU continues in the next one. */
    public boolean continueFlag() {
        return bit(CONTINUE_OFFSET, CONTINUE_BIT);
    }

    public LoginRequestHeader continueFlag(final boolean value) {
        setBit(CONTINUE_OFFSET, CONTINUE_BIT, value);
        return this;
    }

    /** CSG: 0 security negotiation, 1 operational negotiation, 3 full feature phase. */
    public int currentStage() {
        return (unsignedByteAt(CURRENT_STAGE_OFFSET) & CURRENT_STAGE_MASK) >>> CURRENT_STAGE_SHIFT;
    }

    public LoginRequestHeader currentStage(final int value) {
        int other = unsignedByteAt(CURRENT_STAGE_OFFSET) & ~CURRENT_STAGE_MASK;
        unsignedByteAt(CURRENT_STAGE_OFFSET, other | (value << CURRENT_STAGE_SHIFT) & CURRENT_STAGE_MASK);
        return this;
    }

    /** NSG, valid when T is set. */
    public int nextStage() {
        return (unsignedByteAt(NEXT_STAGE_OFFSET) & NEXT_STAGE_MASK) >>> NEXT_STAGE_SHIFT;
    }

    public LoginRequestHeader nextStage(final int value) {
        int other = unsignedByteAt(NEXT_STAGE_OFFSET) & ~NEXT_STAGE_MASK;
        unsignedByteAt(NEXT_STAGE_OFFSET, other | (value << NEXT_STAGE_SHIFT) & NEXT_STAGE_MASK);
        return this;
    }

    public int versionMax() {
        return unsignedByteAt(VERSION_MAX_OFFSET);
    }

    public LoginRequestHeader versionMax(final int value) {
        unsignedByteAt(VERSION_MAX_OFFSET, value);
        return this;
    }

    public int versionMin() {
        return unsignedByteAt(VERSION_MIN_OFFSET);
    }

    public LoginRequestHeader versionMin(final int value) {
        unsignedByteAt(VERSION_MIN_OFFSET, value);
        return this;
    }

    /** Target Session Identifying Handle; 0 for a new session. */
    public int tsih() {
        return unsignedShortAt(TSIH_OFFSET);
    }

    public LoginRequestHeader tsih(final int value) {
        unsignedShortAt(TSIH_OFFSET, value);
        return this;
    }

    /** Connection ID. */
    public int cid() {
        return unsignedShortAt(CID_OFFSET);
    }

    public LoginRequestHeader cid(final int value) {
        unsignedShortAt(CID_OFFSET, value);
        return this;
    }

    public int cmdSN() {
        return intAt(CMD_SN_OFFSET);
    }

    public LoginRequestHeader cmdSN(final int value) {
        intAt(CMD_SN_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public LoginRequestHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }

    /** Offset and length of the Initiator Session ID (§11.12.5). */
    public static final int ISID_OFFSET = 8;
    public static final int ISID_LENGTH = 6;

    /** The 48-bit ISID as a long. */
    public long isid() {
        return buffer.getLong(ISID_OFFSET) >>> Short.SIZE;
    }

    public LoginRequestHeader isid(final long isid) {
        int tsih = tsih();
        buffer.putLong(ISID_OFFSET, isid << Short.SIZE);
        tsih(tsih);
        return this;
    }
}
