package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Task Management Function Request header, opcode 0x02 (RFC 7143 §11.5).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|I| 0x02      |1| Function    | Reserved                      |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| Logical Unit Number (LUN) or Reserved                         |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Referenced Task Tag or 0xffffffff                            |
 *   +---------------+---------------+---------------+---------------+
 * 24|  CmdSN                                                        |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpStatSN                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 32|  RefCmdSN or Reserved                                         |
 *   +---------------+---------------+---------------+---------------+
 * 36|  ExpDataSN or Reserved                                        |
 *   +---------------+---------------+---------------+---------------+
 * 40/  Reserved                                                     /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class TaskManagementRequestHeader extends BasicHeaderSegment {

    public static final int FUNCTION_OFFSET = 1;
    public static final int FUNCTION_MASK = 0x7f;
    public static final int FUNCTION_SHIFT = 0;
    public static final int REFERENCED_TASK_TAG_OFFSET = 20;
    public static final int CMD_SN_OFFSET = 24;
    public static final int EXP_STAT_SN_OFFSET = 28;
    public static final int REF_CMD_SN_OFFSET = 32;
    public static final int EXP_DATA_SN_OFFSET = 36;

    /** Wraps an existing BHS. */
    public TaskManagementRequestHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static TaskManagementRequestHeader create() {
        TaskManagementRequestHeader h = new TaskManagementRequestHeader(allocate(Opcode.TASK_MANAGEMENT_REQUEST));
        h.finalFlag(true);
        return h;
    }

    /** Function code, see {@link TaskManagementFunction}. */
    public int function() {
        return (unsignedByteAt(FUNCTION_OFFSET) & FUNCTION_MASK) >>> FUNCTION_SHIFT;
    }

    public TaskManagementRequestHeader function(final int value) {
        int other = unsignedByteAt(FUNCTION_OFFSET) & ~FUNCTION_MASK;
        unsignedByteAt(FUNCTION_OFFSET, other | (value << FUNCTION_SHIFT) & FUNCTION_MASK);
        return this;
    }

    public int referencedTaskTag() {
        return intAt(REFERENCED_TASK_TAG_OFFSET);
    }

    public TaskManagementRequestHeader referencedTaskTag(final int value) {
        intAt(REFERENCED_TASK_TAG_OFFSET, value);
        return this;
    }

    public int cmdSN() {
        return intAt(CMD_SN_OFFSET);
    }

    public TaskManagementRequestHeader cmdSN(final int value) {
        intAt(CMD_SN_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public TaskManagementRequestHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }

    public int refCmdSN() {
        return intAt(REF_CMD_SN_OFFSET);
    }

    public TaskManagementRequestHeader refCmdSN(final int value) {
        intAt(REF_CMD_SN_OFFSET, value);
        return this;
    }

    public int expDataSN() {
        return intAt(EXP_DATA_SN_OFFSET);
    }

    public TaskManagementRequestHeader expDataSN(final int value) {
        intAt(EXP_DATA_SN_OFFSET, value);
        return this;
    }
}
