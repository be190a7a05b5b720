package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * One iSCSI PDU (RFC 7143 §11.1): the 48-byte Basic Header Segment, the Additional Header
 * Segments (possibly empty) and the data segment (possibly empty, without padding or digest).
 * When encoding, {@link PduEncoder} fills TotalAHSLength and DataSegmentLength from the buffers,
 * so builders need not set them.
 *
 * @param bhs  48 bytes, index 0 = byte 0 of the BHS
 * @param ahs  the AHS bytes (position..limit), a multiple of four bytes; empty when none
 * @param data the data segment (position..limit); empty when none
 */
public record Pdu(ByteBuffer bhs, ByteBuffer ahs, ByteBuffer data) {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    public Pdu {
        if (bhs.capacity() < BasicHeaderSegment.LENGTH) {
            throw new IllegalArgumentException("BHS shorter than " + BasicHeaderSegment.LENGTH + " bytes");
        }
        ahs = ahs == null ? EMPTY : ahs;
        data = data == null ? EMPTY : data;
        if (ahs.remaining() % Integer.BYTES != 0) {
            throw new IllegalArgumentException("AHS length must be a multiple of 4: " + ahs.remaining());
        }
    }

    /** A PDU with this header and data segment and no AHS. */
    public static Pdu of(final BasicHeaderSegment header, final ByteBuffer data) {
        return new Pdu(header.buffer(), EMPTY, data);
    }

    /** A PDU with this header and nothing else. */
    public static Pdu of(final BasicHeaderSegment header) {
        return new Pdu(header.buffer(), EMPTY, EMPTY);
    }

    /** A generic view of the header. */
    public BasicHeaderSegment header() {
        return new BasicHeaderSegment(bhs);
    }

    /** The opcode, or {@code null} if the code is undefined. */
    public Opcode opcode() {
        return Opcode.fromCode(bhs.get(BasicHeaderSegment.OPCODE_OFFSET) & Opcode.MASK);
    }

    /** Length of the data segment in bytes (without padding). */
    public int dataLength() {
        return data.remaining();
    }

    @Override
    public String toString() {
        return header() + " data=" + data.remaining();
    }
}
