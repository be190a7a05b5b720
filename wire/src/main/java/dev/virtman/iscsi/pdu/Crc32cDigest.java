package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The iSCSI CRC32C digest (RFC 7143 §13.1, polynomial 0x1EDC6F41). The four digest bytes travel
 * least significant byte first, as Linux and libiscsi send them.
 */
public final class Crc32cDigest {

    /** Length of a digest on the wire. */
    public static final int LENGTH = 4;

    private static final int BYTE_SHIFT = 8;

    private Crc32cDigest() {
    }

    /** CRC32C of {@code buffers}' remaining bytes, in order; positions are not changed. */
    public static int compute(final ByteBuffer... buffers) {
        CRC32C crc = new CRC32C();
        for (ByteBuffer b : buffers) {
            crc.update(b.duplicate());
        }
        return (int) crc.getValue();
    }

    /** CRC32C of {@code data}'s remaining bytes followed by {@code padding} zero bytes. */
    public static int computePadded(final ByteBuffer data, final int padding) {
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        for (int i = 0; i < padding; i++) {
            crc.update(0);
        }
        return (int) crc.getValue();
    }

    /** Writes {@code digest} at the buffer's position in wire order, advancing it. */
    public static void put(final ByteBuffer dst, final int digest) {
        for (int i = 0; i < LENGTH; i++) {
            dst.put((byte) (digest >>> (BYTE_SHIFT * i)));
        }
    }

    /** Reads a wire-order digest at {@code index} (absolute). */
    public static int get(final ByteBuffer src, final int index) {
        int v = 0;
        for (int i = 0; i < LENGTH; i++) {
            v |= (src.get(index + i) & 0xff) << (BYTE_SHIFT * i);
        }
        return v;
    }
}
