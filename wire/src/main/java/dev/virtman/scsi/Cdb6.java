package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * READ(6) / WRITE(6) (SBC-3 §5.8, §5.24): the 6-byte block CDB.
 *
 * <pre>
 *  Byte  7   6   5   4   3   2   1   0
 *   0   |        OPERATION CODE         |
 *   1   | Reserved  |  LBA (MSB, 20-16) |
 *   2-3 |  LOGICAL BLOCK ADDRESS (LSB)  |
 *   4   |        TRANSFER LENGTH        |   0 means 256 blocks
 *   5   |           CONTROL             |
 * </pre>
 */
public final class Cdb6 extends Cdb implements BlockCdb {
    public static final int LENGTH = 6;
    public static final int LBA_OFFSET = 1;
    public static final int TRANSFER_LENGTH_OFFSET = 4;
    private static final int LBA_MSB_MASK = 0x1F;
    /** SBC-3 §5.8: a TRANSFER LENGTH of zero in a 6-byte CDB transfers 256 blocks. */
    public static final int ZERO_LENGTH_MEANS = 256;

    public Cdb6(final ByteBuffer cdb) {
        super(cdb, LENGTH);
    }

    @Override
    public Cdb cdb() {
        return this;
    }

    @Override
    public long lba() {
        return ((long) (u8(LBA_OFFSET) & LBA_MSB_MASK) << 16) | u16(LBA_OFFSET + 1);
    }

    @Override
    public long transferLength() {
        int n = u8(TRANSFER_LENGTH_OFFSET);
        return n == 0 ? ZERO_LENGTH_MEANS : n;
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
