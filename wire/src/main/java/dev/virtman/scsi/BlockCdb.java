package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * What the block commands (READ, WRITE, VERIFY, WRITE AND VERIFY, WRITE SAME, PRE-FETCH,
 * SYNCHRONIZE CACHE, ORWRITE) share across their 6-, 10-, 12- and 16-byte layouts (SBC-3 §5):
 * an LBA, a block count and byte 1's flags. {@link Cdb6}, {@link Cdb10}, {@link Cdb12} and
 * {@link Cdb16} each draw their layout.
 */
public interface BlockCdb {
    /** Byte 1 in 10/12/16-byte CDBs: RDPROTECT/WRPROTECT/VRPROTECT (7-5), DPO (4), FUA (3). */
    int FLAGS_OFFSET = 1;
    int PROTECT_SHIFT = 5;
    int PROTECT_MASK = 0x7;
    int DPO_BIT = 4;
    int FUA_BIT = 3;
    /** VERIFY / WRITE AND VERIFY: BYTCHK is bits 2-1 of byte 1 (SBC-3 §5.33). */
    int BYTCHK_SHIFT = 1;
    int BYTCHK_MASK = 0x3;

    Cdb cdb();

    /** LOGICAL BLOCK ADDRESS, unsigned; a 16-byte CDB's value above 2^63 - 1 is negative. */
    long lba();

    /** TRANSFER LENGTH / VERIFICATION LENGTH / NUMBER OF LOGICAL BLOCKS, in blocks. */
    long transferLength();

    int lbaOffset();

    int transferLengthOffset();

    /** Byte 1, or 0 for a 6-byte CDB, which has no flags. */
    default int flags() {
        return cdb().length() > Cdb6.LENGTH ? cdb().u8(FLAGS_OFFSET) : 0;
    }

    /** RDPROTECT / WRPROTECT / VRPROTECT; nonzero asks for protection information we do not have. */
    default int protect() {
        return (flags() >>> PROTECT_SHIFT) & PROTECT_MASK;
    }

    default boolean fua() {
        return (flags() & (1 << FUA_BIT)) != 0;
    }

    default int bytchk() {
        return (flags() >>> BYTCHK_SHIFT) & BYTCHK_MASK;
    }

    /** The reader matching the group code of {@code cdb}'s opcode, or {@code null} for other groups. */
    static BlockCdb of(final ByteBuffer cdb) {
        int op = cdb.limit() > 0 ? cdb.get(0) & 0xFF : 0;
        return switch (ScsiOpcode.cdbLength(op)) {
            case Cdb6.LENGTH -> new Cdb6(cdb);
            case Cdb10.LENGTH -> new Cdb10(cdb);
            case Cdb12.LENGTH -> new Cdb12(cdb);
            case Cdb16.LENGTH -> new Cdb16(cdb);
            default -> null;
        };
    }
}
