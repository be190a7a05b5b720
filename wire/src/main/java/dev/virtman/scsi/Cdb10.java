package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * The 10-byte block CDB: READ(10), WRITE(10), VERIFY(10), WRITE AND VERIFY(10), WRITE SAME(10),
 * PRE-FETCH(10), SYNCHRONIZE CACHE(10) (SBC-3 §5.9, §5.26, §5.33, ...).
 *
 * <pre>
 *  Byte  7   6   5   4   3   2   1   0
 *   0   |        OPERATION CODE         |
 *   1   | xxPROTECT | DPO |FUA|  (cmd specific) |
 *   2-5 |  LOGICAL BLOCK ADDRESS        |
 *   6   | Reserved  |   GROUP NUMBER    |
 *   7-8 |  TRANSFER LENGTH              |
 *   9   |           CONTROL             |
 * </pre>
 */
public final class Cdb10 extends Cdb implements BlockCdb {
    public static final int LENGTH = 10;
    public static final int LBA_OFFSET = 2;
    public static final int GROUP_NUMBER_OFFSET = 6;
    public static final int TRANSFER_LENGTH_OFFSET = 7;

    public Cdb10(final ByteBuffer cdb) {
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
        return u16(TRANSFER_LENGTH_OFFSET);
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
