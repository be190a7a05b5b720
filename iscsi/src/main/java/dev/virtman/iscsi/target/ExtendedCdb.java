package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.ScsiCommandHeader;
import java.nio.ByteBuffer;

/**
 * The CDB of a SCSI Command PDU: the 16 bytes of the BHS, followed by the rest of a longer CDB
 * when an Extended CDB AHS is present (RFC 7143 §11.2.2.3, §11.3.5).
 */
final class ExtendedCdb {

    /** Extended CDB AHS type (§11.2.2.3). */
    private static final int AHS_TYPE_EXTENDED_CDB = 1;
    private static final int AHS_LENGTH_FIELD = 2;
    private static final int AHS_HEADER_LENGTH = 3;
    private static final int AHS_ALIGNMENT = 4;

    private ExtendedCdb() {
    }

    /** The whole CDB, or null when an Extended CDB AHS is malformed. */
    static ByteBuffer of(final Pdu pdu) {
        ByteBuffer ahs = pdu.ahs();
        byte[] base = new ScsiCommandHeader(pdu.bhs()).cdb();
        int i = ahs.position();
        while (i + AHS_HEADER_LENGTH <= ahs.limit()) {
            int length = ahs.getShort(i) & 0xffff;
            int type = ahs.get(i + AHS_LENGTH_FIELD) & 0xff;
            if (type == AHS_TYPE_EXTENDED_CDB) {
                int extra = length - 1; // the AHS-specific part begins with a reserved byte
                if (extra <= 0 || i + AHS_HEADER_LENGTH + 1 + extra > ahs.limit()) {
                    return null;
                }
                ByteBuffer cdb = ByteBuffer.allocate(base.length + extra);
                cdb.put(base).put(ahs.slice(i + AHS_HEADER_LENGTH + 1, extra));
                return cdb.flip();
            }
            i += (AHS_HEADER_LENGTH + length + AHS_ALIGNMENT - 1) & -AHS_ALIGNMENT;
        }
        return ByteBuffer.wrap(base);
    }
}
