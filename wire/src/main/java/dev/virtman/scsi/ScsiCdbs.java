package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * Builds the CDBs an initiator sends (the iSCSI initiator, and tests of the target). Field
 * offsets come from the CDB flyweights ({@link Cdb10}, {@link Cdb16}, {@link InquiryCdb},
 * {@link ReportLuns}), so the device server's reader and the initiator's writer share one
 * picture of each layout.
 */
public final class ScsiCdbs {

    /** READ CAPACITY(10) CDB length (SBC-3 §5.15). */
    public static final int READ_CAPACITY_10_LENGTH = 10;
    /** SERVICE ACTION IN(16) ALLOCATION LENGTH is bytes 10-13 (SBC-3 §5.16). */
    public static final int SERVICE_ACTION_ALLOCATION_LENGTH_OFFSET = 10;
    /** TEST UNIT READY CDB length (SPC-4 §6.47). */
    public static final int TEST_UNIT_READY_LENGTH = 6;
    /** READ(10) carries at most 65535 blocks, READ(16) at most 2^32 - 1. */
    public static final int READ_10_MAX_BLOCKS = 0xffff;
    private static final long UNSIGNED_INT_MAX = 0xffff_ffffL;
    private static final int SHORT_MAX = 0xffff;

    private ScsiCdbs() {
    }

    public static byte[] testUnitReady() {
        return new byte[TEST_UNIT_READY_LENGTH];
    }

    /** INQUIRY (SPC-4 §6.4.1): standard data when {@code vpdPage} is negative, else that VPD page. */
    public static byte[] inquiry(final int vpdPage, final int allocationLength) {
        checkRange("allocation length", allocationLength, SHORT_MAX);
        ByteBuffer b = ByteBuffer.allocate(InquiryCdb.LENGTH);
        b.put(InquiryCdb.OPCODE_OFFSET, (byte) ScsiOpcode.INQUIRY.code());
        if (vpdPage >= 0) {
            b.put(InquiryCdb.FLAGS_OFFSET, (byte) (1 << InquiryCdb.EVPD_BIT));
            b.put(InquiryCdb.PAGE_CODE_OFFSET, (byte) vpdPage);
        }
        b.putShort(InquiryCdb.ALLOCATION_LENGTH_OFFSET, (short) allocationLength);
        return b.array();
    }

    /** READ CAPACITY(10) (SBC-3 §5.15). */
    public static byte[] readCapacity10() {
        byte[] cdb = new byte[READ_CAPACITY_10_LENGTH];
        cdb[0] = (byte) ScsiOpcode.READ_CAPACITY_10.code();
        return cdb;
    }

    /** READ CAPACITY(16): SERVICE ACTION IN(16) with service action 10h (SBC-3 §5.16). */
    public static byte[] readCapacity16(final int allocationLength) {
        ByteBuffer b = ByteBuffer.allocate(Cdb16.LENGTH);
        b.put(0, (byte) ScsiOpcode.SERVICE_ACTION_IN_16.code());
        b.put(1, (byte) ScsiOpcode.SA_READ_CAPACITY_16);
        b.putInt(SERVICE_ACTION_ALLOCATION_LENGTH_OFFSET, allocationLength);
        return b.array();
    }

    /** READ(16) of {@code blocks} blocks at {@code lba} (SBC-3 §5.11). */
    public static byte[] read16(final long lba, final long blocks) {
        if (lba < 0) {
            throw new IllegalArgumentException("negative LBA " + lba);
        }
        checkRange("block count", blocks, UNSIGNED_INT_MAX);
        ByteBuffer b = ByteBuffer.allocate(Cdb16.LENGTH);
        b.put(0, (byte) ScsiOpcode.READ_16.code());
        b.putLong(Cdb16.LBA_OFFSET, lba);
        b.putInt(Cdb16.TRANSFER_LENGTH_OFFSET, (int) blocks);
        return b.array();
    }

    /** READ(10) of {@code blocks} blocks at {@code lba} (SBC-3 §5.9); LBA below 2^32. */
    public static byte[] read10(final long lba, final int blocks) {
        checkRange("LBA", lba, UNSIGNED_INT_MAX);
        checkRange("block count", blocks, READ_10_MAX_BLOCKS);
        ByteBuffer b = ByteBuffer.allocate(Cdb10.LENGTH);
        b.put(0, (byte) ScsiOpcode.READ_10.code());
        b.putInt(Cdb10.LBA_OFFSET, (int) lba);
        b.putShort(Cdb10.TRANSFER_LENGTH_OFFSET, (short) blocks);
        return b.array();
    }

    /** WRITE(10) of {@code blocks} blocks at {@code lba} (SBC-3 §5.26); LBA below 2^32. */
    public static byte[] write10(final long lba, final int blocks) {
        byte[] cdb = read10(lba, blocks);
        cdb[0] = (byte) ScsiOpcode.WRITE_10.code();
        return cdb;
    }

    /** REPORT LUNS, SELECT REPORT 00h (SPC-4 §6.33). */
    public static byte[] reportLuns(final int allocationLength) {
        ByteBuffer b = ByteBuffer.allocate(ReportLuns.LENGTH);
        b.put(0, (byte) ScsiOpcode.REPORT_LUNS.code());
        b.put(ReportLuns.SELECT_REPORT_OFFSET, (byte) ReportLuns.SELECT_ALL_LOGICAL_UNITS);
        b.putInt(ReportLuns.ALLOCATION_LENGTH_OFFSET, allocationLength);
        return b.array();
    }

    private static void checkRange(final String what, final long value, final long max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(what + " out of range 0.." + max + ": " + value);
        }
    }
}
