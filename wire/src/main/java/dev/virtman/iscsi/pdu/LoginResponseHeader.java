package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Login Response header, opcode 0x23 (RFC 7143 §11.13).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x23      |T|C|.|.|CSG|NSG| Version-max   | Version-active|
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| ISID                                                          |
 *   +                               +---------------+---------------+
 * 12|                               | TSIH                          |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36| Status-Class  | Status-Detail | Reserved                      |
 *   +---------------+---------------+---------------+---------------+
 * 40/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class LoginResponseHeader extends BasicHeaderSegment {

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
    public static final int VERSION_ACTIVE_OFFSET = 3;
    public static final int TSIH_OFFSET = 14;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int STATUS_CLASS_OFFSET = 36;
    public static final int STATUS_DETAIL_OFFSET = 37;

    /** Wraps an existing BHS. */
    public LoginResponseHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode set. */
    public static LoginResponseHeader create() {
        LoginResponseHeader h = new LoginResponseHeader(allocate(Opcode.LOGIN_RESPONSE));
        return h;
    }

    public boolean transit() {
        return bit(TRANSIT_OFFSET, TRANSIT_BIT);
    }

    public LoginResponseHeader transit(final boolean value) {
        setBit(TRANSIT_OFFSET, TRANSIT_BIT, value);
        return this;
    }

    public boolean continueFlag() {
        return bit(CONTINUE_OFFSET, CONTINUE_BIT);
    }

    public LoginResponseHeader continueFlag(final boolean value) {
        setBit(CONTINUE_OFFSET, CONTINUE_BIT, value);
        return this;
    }

    public int currentStage() {
        return (unsignedByteAt(CURRENT_STAGE_OFFSET) & CURRENT_STAGE_MASK) >>> CURRENT_STAGE_SHIFT;
    }

    public LoginResponseHeader currentStage(final int value) {
        int other = unsignedByteAt(CURRENT_STAGE_OFFSET) & ~CURRENT_STAGE_MASK;
        unsignedByteAt(CURRENT_STAGE_OFFSET, other | (value << CURRENT_STAGE_SHIFT) & CURRENT_STAGE_MASK);
        return this;
    }

    public int nextStage() {
        return (unsignedByteAt(NEXT_STAGE_OFFSET) & NEXT_STAGE_MASK) >>> NEXT_STAGE_SHIFT;
    }

    public LoginResponseHeader nextStage(final int value) {
        int other = unsignedByteAt(NEXT_STAGE_OFFSET) & ~NEXT_STAGE_MASK;
        unsignedByteAt(NEXT_STAGE_OFFSET, other | (value << NEXT_STAGE_SHIFT) & NEXT_STAGE_MASK);
        return this;
    }

    public int versionMax() {
        return unsignedByteAt(VERSION_MAX_OFFSET);
    }

    public LoginResponseHeader versionMax(final int value) {
        unsignedByteAt(VERSION_MAX_OFFSET, value);
        return this;
    }

    public int versionActive() {
        return unsignedByteAt(VERSION_ACTIVE_OFFSET);
    }

    public LoginResponseHeader versionActive(final int value) {
        unsignedByteAt(VERSION_ACTIVE_OFFSET, value);
        return this;
    }

    public int tsih() {
        return unsignedShortAt(TSIH_OFFSET);
    }

    public LoginResponseHeader tsih(final int value) {
        unsignedShortAt(TSIH_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public LoginResponseHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public LoginResponseHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public LoginResponseHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    /** 0 success, 1 redirection, 2 initiator error, 3 target error (§11.13.5). */
    public int statusClass() {
        return unsignedByteAt(STATUS_CLASS_OFFSET);
    }

    public LoginResponseHeader statusClass(final int value) {
        unsignedByteAt(STATUS_CLASS_OFFSET, value);
        return this;
    }

    public int statusDetail() {
        return unsignedByteAt(STATUS_DETAIL_OFFSET);
    }

    public LoginResponseHeader statusDetail(final int value) {
        unsignedByteAt(STATUS_DETAIL_OFFSET, value);
        return this;
    }

    public static final int ISID_OFFSET = 8;

    public long isid() {
        return buffer.getLong(ISID_OFFSET) >>> Short.SIZE;
    }

    public LoginResponseHeader isid(final long isid) {
        int tsih = tsih();
        buffer.putLong(ISID_OFFSET, isid << Short.SIZE);
        tsih(tsih);
        return this;
    }
}
