package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Flyweight over the 48-byte iSCSI Basic Header Segment (RFC 7143 §11.2.1). All accesses are
 * absolute (the buffer's position and limit are ignored), big-endian, starting at index 0 of the
 * wrapped buffer. Subclasses add the opcode-specific fields of one PDU type.
 *
 * <pre>
 * Byte/     0       |       1       |       2       |       3       |
 *    /              |               |               |               |
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|I| Opcode    |F|  Opcode-specific fields                     |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| LUN or Opcode-specific fields                                 |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16| Initiator Task Tag                                            |
 *   +---------------+---------------+---------------+---------------+
 * 20/ Opcode-specific fields                                        /
 *  +/                                                               /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public class BasicHeaderSegment {

    /** Length of the BHS in bytes. */
    public static final int LENGTH = 48;

    public static final int OPCODE_OFFSET = 0;
    public static final int FLAGS_OFFSET = 1;
    public static final int TOTAL_AHS_LENGTH_OFFSET = 4;
    public static final int DATA_SEGMENT_LENGTH_OFFSET = 5;
    public static final int LUN_OFFSET = 8;
    public static final int INITIATOR_TASK_TAG_OFFSET = 16;

    /** Byte 0 bit 6: immediate delivery (§11.2.1.1). */
    public static final int IMMEDIATE_BIT = 0x40;
    /** Byte 1 bit 7: final PDU of a sequence (F bit). */
    public static final int FINAL_BIT = 0x80;
    /** The Initiator Task Tag value meaning "no task" (§11.2.1.8). */
    public static final int RESERVED_TAG = 0xffffffff;
    /** DataSegmentLength is a 24-bit field. */
    public static final int MAX_DATA_SEGMENT_LENGTH = 0xffffff;

    private static final int BYTE_MASK = 0xff;
    private static final int THREE_BYTE_SHIFT = 16;
    private static final int TWO_BYTE_SHIFT = 8;

    protected final ByteBuffer buffer;

    /** Wraps {@code buffer}, whose indices 0..47 hold the BHS. */
    public BasicHeaderSegment(final ByteBuffer buffer) {
        if (buffer.capacity() < LENGTH) {
            throw new IllegalArgumentException("BHS needs " + LENGTH + " bytes, buffer has " + buffer.capacity());
        }
        this.buffer = buffer.order() == ByteOrder.BIG_ENDIAN ? buffer : buffer.duplicate().order(ByteOrder.BIG_ENDIAN);
    }

    /** A zeroed 48-byte BHS with {@code opcode} set. */
    protected static ByteBuffer allocate(final Opcode opcode) {
        ByteBuffer b = ByteBuffer.allocate(LENGTH);
        b.put(OPCODE_OFFSET, (byte) opcode.code());
        return b;
    }

    /** The underlying buffer (index 0 = byte 0 of the BHS). */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** The raw six-bit opcode code. */
    public int opcodeCode() {
        return buffer.get(OPCODE_OFFSET) & Opcode.MASK;
    }

    /** The opcode, or {@code null} for an undefined code. */
    public Opcode opcode() {
        return Opcode.fromCode(opcodeCode());
    }

    public boolean immediate() {
        return (buffer.get(OPCODE_OFFSET) & IMMEDIATE_BIT) != 0;
    }

    public void immediate(final boolean value) {
        setBit(OPCODE_OFFSET, IMMEDIATE_BIT, value);
    }

    /** The F bit (byte 1 bit 7). */
    public boolean finalFlag() {
        return bit(FLAGS_OFFSET, FINAL_BIT);
    }

    public void finalFlag(final boolean value) {
        setBit(FLAGS_OFFSET, FINAL_BIT, value);
    }

    /** Byte 1 as an unsigned value (F bit plus opcode-specific flags). */
    public int flags() {
        return buffer.get(FLAGS_OFFSET) & BYTE_MASK;
    }

    /** Total AHS length in bytes (the field counts four-byte words, §11.2.1.4). */
    public int totalAhsLengthBytes() {
        return (buffer.get(TOTAL_AHS_LENGTH_OFFSET) & BYTE_MASK) * Integer.BYTES;
    }

    public void totalAhsLengthBytes(final int bytes) {
        buffer.put(TOTAL_AHS_LENGTH_OFFSET, (byte) (bytes / Integer.BYTES));
    }

    /** Data segment length in bytes, excluding padding (§11.2.1.5). */
    public int dataSegmentLength() {
        return (buffer.get(DATA_SEGMENT_LENGTH_OFFSET) & BYTE_MASK) << THREE_BYTE_SHIFT
                | (buffer.get(DATA_SEGMENT_LENGTH_OFFSET + 1) & BYTE_MASK) << TWO_BYTE_SHIFT
                | buffer.get(DATA_SEGMENT_LENGTH_OFFSET + 2) & BYTE_MASK;
    }

    public void dataSegmentLength(final int length) {
        if (length < 0 || length > MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("DataSegmentLength out of range: " + length);
        }
        buffer.put(DATA_SEGMENT_LENGTH_OFFSET, (byte) (length >>> THREE_BYTE_SHIFT));
        buffer.put(DATA_SEGMENT_LENGTH_OFFSET + 1, (byte) (length >>> TWO_BYTE_SHIFT));
        buffer.put(DATA_SEGMENT_LENGTH_OFFSET + 2, (byte) length);
    }

    /** The 64-bit LUN field (bytes 8-15), meaningful for PDUs that carry one. */
    public long lun() {
        return buffer.getLong(LUN_OFFSET);
    }

    public void lun(final long lun) {
        buffer.putLong(LUN_OFFSET, lun);
    }

    public int initiatorTaskTag() {
        return buffer.getInt(INITIATOR_TASK_TAG_OFFSET);
    }

    public void initiatorTaskTag(final int tag) {
        buffer.putInt(INITIATOR_TASK_TAG_OFFSET, tag);
    }

    protected final int intAt(final int offset) {
        return buffer.getInt(offset);
    }

    protected final void intAt(final int offset, final int value) {
        buffer.putInt(offset, value);
    }

    protected final int unsignedShortAt(final int offset) {
        return buffer.getShort(offset) & 0xffff;
    }

    protected final void unsignedShortAt(final int offset, final int value) {
        buffer.putShort(offset, (short) value);
    }

    protected final int unsignedByteAt(final int offset) {
        return buffer.get(offset) & BYTE_MASK;
    }

    protected final void unsignedByteAt(final int offset, final int value) {
        buffer.put(offset, (byte) value);
    }

    protected final boolean bit(final int offset, final int mask) {
        return (buffer.get(offset) & mask) != 0;
    }

    protected final void setBit(final int offset, final int mask, final boolean value) {
        int b = buffer.get(offset);
        buffer.put(offset, (byte) (value ? b | mask : b & ~mask));
    }

    @Override
    public String toString() {
        Opcode op = opcode();
        return (op == null ? String.format("opcode 0x%02x", opcodeCode()) : op.name())
                + " itt=0x" + Integer.toHexString(initiatorTaskTag())
                + " dsl=" + dataSegmentLength();
    }
}
