package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Task Management Function Response header, opcode 0x22 (RFC 7143 §11.6).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x22      |1| Reserved    | Response      | Reserved      |
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
 * 36/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class TaskManagementResponseHeader extends BasicHeaderSegment {

    public static final int RESPONSE_OFFSET = 2;
    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;

    /** Wraps an existing BHS. */
    public TaskManagementResponseHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static TaskManagementResponseHeader create() {
        TaskManagementResponseHeader h = new TaskManagementResponseHeader(allocate(Opcode.TASK_MANAGEMENT_RESPONSE));
        h.finalFlag(true);
        return h;
    }

    /** Response code, see {@link TaskManagementFunction} RESPONSE_* constants. */
    public int response() {
        return unsignedByteAt(RESPONSE_OFFSET);
    }

    public TaskManagementResponseHeader response(final int value) {
        unsignedByteAt(RESPONSE_OFFSET, value);
        return this;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public TaskManagementResponseHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public TaskManagementResponseHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public TaskManagementResponseHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }
}
