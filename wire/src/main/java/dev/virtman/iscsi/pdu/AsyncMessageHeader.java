package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Asynchronous Message header, opcode 0x32 (RFC 7143 §11.9).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|.| 0x32      |1| Reserved                                    |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| LUN or Reserved                                               |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  0xffffffff                                                   |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 24|  StatSN                                                       |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 32|  MaxCmdSN                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 36| AsyncEvent    | AsyncVCode    | Parameter1 or Reserved        |
 *   +---------------+---------------+---------------+---------------+
 * 40|  Parameter2 or Reserved       | Parameter3 or Reserved        |
 *   +---------------+---------------+---------------+---------------+
 * 44|  Reserved                                                     |
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class AsyncMessageHeader extends BasicHeaderSegment {

    public static final int STAT_SN_OFFSET = 24;
    public static final int EXP_CMD_SN_OFFSET = 28;
    public static final int MAX_CMD_SN_OFFSET = 32;
    public static final int ASYNC_EVENT_OFFSET = 36;
    public static final int ASYNC_VCODE_OFFSET = 37;
    public static final int PARAMETER1_OFFSET = 38;
    public static final int PARAMETER2_OFFSET = 40;
    public static final int PARAMETER3_OFFSET = 42;

    /** Wraps an existing BHS. */
    public AsyncMessageHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static AsyncMessageHeader create() {
        AsyncMessageHeader h = new AsyncMessageHeader(allocate(Opcode.ASYNC_MESSAGE));
        h.finalFlag(true);
        return h;
    }

    public int statSN() {
        return intAt(STAT_SN_OFFSET);
    }

    public AsyncMessageHeader statSN(final int value) {
        intAt(STAT_SN_OFFSET, value);
        return this;
    }

    public int expCmdSN() {
        return intAt(EXP_CMD_SN_OFFSET);
    }

    public AsyncMessageHeader expCmdSN(final int value) {
        intAt(EXP_CMD_SN_OFFSET, value);
        return this;
    }

    public int maxCmdSN() {
        return intAt(MAX_CMD_SN_OFFSET);
    }

    public AsyncMessageHeader maxCmdSN(final int value) {
        intAt(MAX_CMD_SN_OFFSET, value);
        return this;
    }

    /** 0 SCSI async event, 1 logout request, 2 drop connection, 3 drop all connections, 4 renegotiate. */
    public int asyncEvent() {
        return unsignedByteAt(ASYNC_EVENT_OFFSET);
    }

    public AsyncMessageHeader asyncEvent(final int value) {
        unsignedByteAt(ASYNC_EVENT_OFFSET, value);
        return this;
    }

    public int asyncVCode() {
        return unsignedByteAt(ASYNC_VCODE_OFFSET);
    }

    public AsyncMessageHeader asyncVCode(final int value) {
        unsignedByteAt(ASYNC_VCODE_OFFSET, value);
        return this;
    }

    public int parameter1() {
        return unsignedShortAt(PARAMETER1_OFFSET);
    }

    public AsyncMessageHeader parameter1(final int value) {
        unsignedShortAt(PARAMETER1_OFFSET, value);
        return this;
    }

    public int parameter2() {
        return unsignedShortAt(PARAMETER2_OFFSET);
    }

    public AsyncMessageHeader parameter2(final int value) {
        unsignedShortAt(PARAMETER2_OFFSET, value);
        return this;
    }

    public int parameter3() {
        return unsignedShortAt(PARAMETER3_OFFSET);
    }

    public AsyncMessageHeader parameter3(final int value) {
        unsignedShortAt(PARAMETER3_OFFSET, value);
        return this;
    }
}
