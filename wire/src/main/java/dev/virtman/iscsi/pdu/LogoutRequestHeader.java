package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Logout Request header, opcode 0x06 (RFC 7143 §11.14).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|I| 0x06      |1| Reason Code | Reserved                      |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8/ Reserved                                                      /
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  CID or Reserved              | Reserved                      |
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
public final class LogoutRequestHeader extends BasicHeaderSegment {

    public static final int REASON_CODE_OFFSET = 1;
    public static final int REASON_CODE_MASK = 0x7f;
    public static final int REASON_CODE_SHIFT = 0;
    public static final int CID_OFFSET = 20;
    public static final int CMD_SN_OFFSET = 24;
    public static final int EXP_STAT_SN_OFFSET = 28;

    /** Wraps an existing BHS. */
    public LogoutRequestHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static LogoutRequestHeader create() {
        LogoutRequestHeader h = new LogoutRequestHeader(allocate(Opcode.LOGOUT_REQUEST));
        h.finalFlag(true);
        return h;
    }

    /** 0 close the session, 1 close the connection, 2 remove the connection for recovery. */
    public int reasonCode() {
        return (unsignedByteAt(REASON_CODE_OFFSET) & REASON_CODE_MASK) >>> REASON_CODE_SHIFT;
    }

    public LogoutRequestHeader reasonCode(final int value) {
        int other = unsignedByteAt(REASON_CODE_OFFSET) & ~REASON_CODE_MASK;
        unsignedByteAt(REASON_CODE_OFFSET, other | (value << REASON_CODE_SHIFT) & REASON_CODE_MASK);
        return this;
    }

    public int cid() {
        return unsignedShortAt(CID_OFFSET);
    }

    public LogoutRequestHeader cid(final int value) {
        unsignedShortAt(CID_OFFSET, value);
        return this;
    }

    public int cmdSN() {
        return intAt(CMD_SN_OFFSET);
    }

    public LogoutRequestHeader cmdSN(final int value) {
        intAt(CMD_SN_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public LogoutRequestHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }

    public static final int REASON_CLOSE_SESSION = 0;
    public static final int REASON_CLOSE_CONNECTION = 1;
    public static final int REASON_REMOVE_CONNECTION_FOR_RECOVERY = 2;
}
