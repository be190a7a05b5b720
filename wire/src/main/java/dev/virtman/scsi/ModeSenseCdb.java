package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * MODE SENSE(6) and MODE SENSE(10) CDBs (SPC-4 §6.11, §6.12).
 *
 * <pre>
 * MODE SENSE(6)                              MODE SENSE(10)
 *  Byte  7   6   5   4   3   2   1   0        Byte  7   6   5   4    3   2   1   0
 *   0   | OPERATION CODE (1Ah)        |        0   | OPERATION CODE (5Ah)         |
 *   1   | Reserved      |DBD| Reserved|        1   | Reserved  |LLBAA|DBD| Reserved|
 *   2   |  PC   |     PAGE CODE       |        2   |  PC   |     PAGE CODE        |
 *   3   |     SUBPAGE CODE            |        3   |     SUBPAGE CODE             |
 *   4   |     ALLOCATION LENGTH       |       4-6  |     Reserved                 |
 *   5   |     CONTROL                 |       7-8  |     ALLOCATION LENGTH        |
 *                                               9   |     CONTROL                  |
 * </pre>
 */
public final class ModeSenseCdb extends Cdb {
    public static final int FLAGS_OFFSET = 1;
    public static final int DBD_BIT = 3;
    public static final int LLBAA_BIT = 4;
    public static final int PAGE_CODE_OFFSET = 2;
    public static final int PC_SHIFT = 6;
    public static final int PAGE_CODE_MASK = 0x3F;
    public static final int SUBPAGE_CODE_OFFSET = 3;
    public static final int ALLOCATION_LENGTH_OFFSET_6 = 4;
    public static final int ALLOCATION_LENGTH_OFFSET_10 = 7;

    private final boolean ten;

    public ModeSenseCdb(final ByteBuffer cdb) {
        super(cdb, ScsiOpcode.cdbLength(cdb.get(0)));
        this.ten = length() == Cdb10.LENGTH;
    }

    /** True for MODE SENSE(10), which has an 8-byte header and may ask for long LBA descriptors. */
    public boolean isTenByte() {
        return ten;
    }

    public boolean disableBlockDescriptors() {
        return bit(FLAGS_OFFSET, DBD_BIT);
    }

    /** LLBAA: long LBA block descriptors allowed (MODE SENSE(10) only). */
    public boolean longLbaAccepted() {
        return ten && bit(FLAGS_OFFSET, LLBAA_BIT);
    }

    /** PC: 0 current, 1 changeable, 2 default, 3 saved. */
    public int pageControl() {
        return u8(PAGE_CODE_OFFSET) >>> PC_SHIFT;
    }

    public int pageCode() {
        return u8(PAGE_CODE_OFFSET) & PAGE_CODE_MASK;
    }

    public int subpageCode() {
        return u8(SUBPAGE_CODE_OFFSET);
    }

    public int allocationLength() {
        return ten ? u16(ALLOCATION_LENGTH_OFFSET_10) : u8(ALLOCATION_LENGTH_OFFSET_6);
    }
}
