package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes {@link Pdu}s in wire form (RFC 7143 §11.1): BHS, AHS, optional header digest, data
 * segment padded to four bytes, optional data digest. The output is a list of buffers so a
 * connection writer can hand many PDUs to one gathering write without copying data segments.
 *
 * <p>The encoder sets TotalAHSLength and DataSegmentLength in the PDU's BHS from its buffers.
 * Digest settings change after login; one encoder per connection, used by its writer.
 */
public final class PduEncoder {

    private static final int PAD_ALIGNMENT = 4;

    private volatile boolean headerDigest;
    private volatile boolean dataDigest;

    public void headerDigest(final boolean enabled) {
        this.headerDigest = enabled;
    }

    public void dataDigest(final boolean enabled) {
        this.dataDigest = enabled;
    }

    public boolean headerDigest() {
        return headerDigest;
    }

    public boolean dataDigest() {
        return dataDigest;
    }

    /** Number of bytes {@code pdu} occupies on the wire with the current settings. */
    public int encodedLength(final Pdu pdu) {
        int dataLength = pdu.data().remaining();
        int n = BasicHeaderSegment.LENGTH + pdu.ahs().remaining() + (headerDigest ? Crc32cDigest.LENGTH : 0);
        if (dataLength > 0) {
            n += PduDecoder.padded(dataLength) + (dataDigest ? Crc32cDigest.LENGTH : 0);
        }
        return n;
    }

    /**
     * Appends to {@code out} the buffers that form {@code pdu} on the wire. The data segment is
     * shared, not copied: callers must not change it until the buffers are written.
     */
    public void encode(final Pdu pdu, final List<ByteBuffer> out) {
        ByteBuffer data = pdu.data().duplicate();
        ByteBuffer ahs = pdu.ahs().duplicate();
        BasicHeaderSegment h = pdu.header();
        h.totalAhsLengthBytes(ahs.remaining());
        h.dataSegmentLength(data.remaining());

        boolean hd = headerDigest;
        ByteBuffer header = ByteBuffer.allocate(BasicHeaderSegment.LENGTH + ahs.remaining() + (hd ? Crc32cDigest.LENGTH : 0));
        header.put(pdu.bhs().duplicate().clear().limit(BasicHeaderSegment.LENGTH));
        header.put(ahs.duplicate());
        if (hd) {
            Crc32cDigest.put(header, Crc32cDigest.compute(header.duplicate().flip()));
        }
        out.add(header.flip());

        int dataLength = data.remaining();
        if (dataLength == 0) {
            return;
        }
        out.add(data);
        int padding = PduDecoder.padded(dataLength) - dataLength;
        boolean dd = dataDigest;
        if (padding > 0 || dd) {
            ByteBuffer trailer = ByteBuffer.allocate(padding + (dd ? Crc32cDigest.LENGTH : 0));
            trailer.position(padding);
            if (dd) {
                Crc32cDigest.put(trailer, Crc32cDigest.computePadded(data, padding));
            }
            out.add(trailer.flip());
        }
    }

    /** {@code pdu} in wire form as one buffer (a copy); convenient for tests and small PDUs. */
    public ByteBuffer encodeToBuffer(final Pdu pdu) {
        List<ByteBuffer> parts = new ArrayList<>(PAD_ALIGNMENT);
        encode(pdu, parts);
        int total = 0;
        for (ByteBuffer b : parts) {
            total += b.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(total);
        for (ByteBuffer b : parts) {
            all.put(b);
        }
        return all.flip();
    }
}
