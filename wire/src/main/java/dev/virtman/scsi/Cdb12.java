package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * The 12-byte block CDB: READ(12), WRITE(12), VERIFY(12), WRITE AND VERIFY(12) (SBC-3 §5.10,
 * §5.27, §5.34, §5.41).
 *
 * <pre>
 *  Byte  7   6   5   4   3   2   1   0
 *   0   |        OPERATION CODE         |
 *   1   | xxPROTECT | DPO |FUA|  (cmd specific) |
 *   2-5 |  LOGICAL BLOCK ADDRESS        |
 *   6-9 |  TRANSFER LENGTH              |
 *   10  | Rsvd      |   GROUP NUMBER    |
 *   11  |           CONTROL             |
 * </pre>
 */
public final class Cdb12 extends Cdb implements BlockCdb {
    public static final int LENGTH = 12;
    public static final int LBA_OFFSET = 2;
    public static final int TRANSFER_LENGTH_OFFSET = 6;
    public static final int GROUP_NUMBER_OFFSET = 10;

    public Cdb12(final ByteBuffer cdb) {
        super(cdb, LENGTH);
    }

    @Override
    public Cdb cdb() {
        return this;
    }

    @Override
    public long lba() {
        return u32(LBA_OFFSET);
    }

    @Override
    public long transferLength() {
        return u32(TRANSFER_LENGTH_OFFSET);
    }

    @Override
    public int lbaOffset() {
        return LBA_OFFSET;
    }

    @Override
    public int transferLengthOffset() {
        return TRANSFER_LENGTH_OFFSET;
    }
}
