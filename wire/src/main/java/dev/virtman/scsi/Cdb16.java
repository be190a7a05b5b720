package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * The 16-byte block CDB: READ(16), WRITE(16), VERIFY(16), WRITE AND VERIFY(16), WRITE SAME(16),
 * PRE-FETCH(16), SYNCHRONIZE CACHE(16), ORWRITE(16) (SBC-3 §5.11, §5.28, §5.35, ...).
 *
 * <pre>
 *  Byte   7   6   5   4   3   2   1   0
 *   0    |        OPERATION CODE         |
 *   1    | xxPROTECT | DPO |FUA|  (cmd specific) |
 *   2-9  |  LOGICAL BLOCK ADDRESS (64)   |
 *   10-13|  TRANSFER LENGTH              |
 *   14   | Rsvd      |   GROUP NUMBER    |
 *   15   |           CONTROL             |
 * </pre>
 */
public final class Cdb16 extends Cdb implements BlockCdb {
    public static final int LENGTH = 16;
    public static final int LBA_OFFSET = 2;
    public static final int TRANSFER_LENGTH_OFFSET = 10;
    public static final int GROUP_NUMBER_OFFSET = 14;

    public Cdb16(final ByteBuffer cdb) {
        super(cdb, LENGTH);
    }

    @Override
    public Cdb cdb() {
        return this;
    }

    @Override
    public long lba() {
        return u64(LBA_OFFSET);
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
