package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * INQUIRY CDB (SPC-4 §6.4.1).
 *
 * <pre>
 *  Byte  7   6   5   4   3   2   1   0
 *   0   |   OPERATION CODE (12h)        |
 *   1   |   Reserved            |CmdDt|EVPD|   CmdDt is obsolete (SPC-3) and must be 0
 *   2   |   PAGE CODE                   |
 *   3-4 |   ALLOCATION LENGTH           |
 *   5   |   CONTROL                     |
 * </pre>
 */
public final class InquiryCdb extends Cdb {
    public static final int LENGTH = 6;
    public static final int FLAGS_OFFSET = 1;
    public static final int EVPD_BIT = 0;
    public static final int CMDDT_BIT = 1;
    public static final int PAGE_CODE_OFFSET = 2;
    public static final int ALLOCATION_LENGTH_OFFSET = 3;

    public InquiryCdb(final ByteBuffer cdb) {
        super(cdb, LENGTH);
    }

    public boolean evpd() {
        return bit(FLAGS_OFFSET, EVPD_BIT);
    }

    public boolean cmdDt() {
        return bit(FLAGS_OFFSET, CMDDT_BIT);
    }

    public int pageCode() {
        return u8(PAGE_CODE_OFFSET);
    }

    public int allocationLength() {
        return u16(ALLOCATION_LENGTH_OFFSET);
    }
}
