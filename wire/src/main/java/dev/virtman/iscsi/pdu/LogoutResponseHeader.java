package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Logout Response header, opcode 0x26 (RFC 7143 §11.15).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x26      |1| Reserved    | Response      | Reserved      |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8/ Reserved                                                      /
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
 * 36|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 40|  Time2Wait                    | Time2Retain                   |
 *   +---------------+---------------+---------------+---------------+
 * 44|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class LogoutResponseHeader extends BasicHeaderSegment {

    public static final int RESPONSE_OFFSET = 2;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int TIME2WAIT_OFFSET = 40;
    public static final int TIME2RETAIN_OFFSET = 42;

    /** Wraps an existing BHS. */
    public LogoutResponseHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static LogoutResponseHeader create() {
        LogoutResponseHeader h = new LogoutResponseHeader(allocate(Opcode.LOGOUT_RESPONSE));
        h.finalFlag(true);
        return h;
    }

    /** 0 closed successfully, 1 CID not found, 2 recovery not supported, 3 cleanup failed. */
    public int response() {
        return unsignedByteAt(RESPONSE_OFFSET);
    }

    public LogoutResponseHeader response(final int value) {
        unsignedByteAt(RESPONSE_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public LogoutResponseHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public LogoutResponseHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public LogoutResponseHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    public int time2Wait() {
        return unsignedShortAt(TIME2WAIT_OFFSET);
    }

    public LogoutResponseHeader time2Wait(final int value) {
        unsignedShortAt(TIME2WAIT_OFFSET, value);
        return this;
    }

    public int time2Retain() {
        return unsignedShortAt(TIME2RETAIN_OFFSET);
    }

    public LogoutResponseHeader time2Retain(final int value) {
        unsignedShortAt(TIME2RETAIN_OFFSET, value);
        return this;
    }

    public static final int RESPONSE_CLOSED = 0;
    public static final int RESPONSE_CID_NOT_FOUND = 1;
    public static final int RESPONSE_RECOVERY_NOT_SUPPORTED = 2;
}
