package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * REPORT LUNS (SPC-4 §6.33): CDB reader and parameter data.
 *
 * <pre>
 * CDB                                          Parameter data
 *  Byte 0     OPERATION CODE (A0h)              0-3   LUN LIST LENGTH (n - 7)
 *       1     Reserved                          4-7   Reserved
 *       2     SELECT REPORT                     8-15  LUN [first]
 *       3-5   Reserved                          ...
 *       6-9   ALLOCATION LENGTH                 n-7.. LUN [last]
 *       10    Reserved
 *       11    CONTROL
 * </pre>
 *
 * <p>LUNs use SAM-5 §4.7.7 single-level addressing: peripheral device addressing (method 00b,
 * LUN in byte 1) below 256, flat space addressing (method 01b, 14-bit LUN in bytes 0-1) above.
 */
public final class ReportLuns extends Cdb {
    public static final int LENGTH = 12;
    public static final int SELECT_REPORT_OFFSET = 2;
    public static final int ALLOCATION_LENGTH_OFFSET = 6;
    public static final int SELECT_ALL_LOGICAL_UNITS = 0x00;
    public static final int SELECT_WELL_KNOWN = 0x01;
    public static final int SELECT_ALL = 0x02;
    public static final int HEADER_LENGTH = 8;
    public static final int LUN_ENTRY_LENGTH = 8;
    /** SPC-4 §6.33: an allocation length below 16 bytes is an INVALID FIELD IN CDB. */
    public static final int MIN_ALLOCATION_LENGTH = 16;

    /** Addressing methods, the top two bits of the first LUN byte (SAM-5 §4.7.7.1). */
    public static final int ADDRESS_METHOD_PERIPHERAL = 0b00;
    public static final int ADDRESS_METHOD_FLAT = 0b01;
    private static final int ADDRESS_METHOD_SHIFT = 62;
    private static final int PERIPHERAL_MAX = 0xFF;
    /** Flat space addressing carries a 14-bit LUN. */
    public static final int FLAT_MAX = 0x3FFF;
    private static final int LUN_FIRST_LEVEL_SHIFT = 48;
    private static final long LOWER_LEVELS_MASK = (1L << LUN_FIRST_LEVEL_SHIFT) - 1;
    private static final int BUS_ID_MASK = 0x3F;

    public ReportLuns(final ByteBuffer cdb) {
        super(cdb, LENGTH);
    }

    public int selectReport() {
        return u8(SELECT_REPORT_OFFSET);
    }

    public long allocationLength() {
        return u32(ALLOCATION_LENGTH_OFFSET);
    }

    /** Encodes LUN {@code n} as the 8-byte LUN field initiators expect (SAM-5 §4.7.7). */
    public static long encodeLun(final int n) {
        if (n < 0 || n > FLAT_MAX) {
            throw new IllegalArgumentException("LUN out of single-level range: " + n);
        }
        long firstLevel = n <= PERIPHERAL_MAX ? n : ((long) ADDRESS_METHOD_FLAT << 14) | n;
        return firstLevel << LUN_FIRST_LEVEL_SHIFT;
    }

    /**
     * Decodes a single-level LUN field; -1 for anything we do not address (lower levels set,
     * a nonzero peripheral bus identifier, or the logical unit / extended addressing methods).
     */
    public static int decodeLun(final long lunField) {
        if ((lunField & LOWER_LEVELS_MASK) != 0) {
            return -1;
        }
        int method = (int) (lunField >>> ADDRESS_METHOD_SHIFT);
        int firstLevel = (int) (lunField >>> LUN_FIRST_LEVEL_SHIFT) & 0xFFFF;
        return switch (method) {
            case ADDRESS_METHOD_PERIPHERAL -> ((firstLevel >>> 8) & BUS_ID_MASK) == 0 ? firstLevel & 0xFF : -1;
            case ADDRESS_METHOD_FLAT -> firstLevel & FLAT_MAX;
            default -> -1;
        };
    }

    /** The parameter data for {@code lunCount} logical units numbered 0..lunCount-1. */
    public static byte[] parameterData(final int lunCount, final int selectReport) {
        int count = selectReport == SELECT_WELL_KNOWN ? 0 : lunCount;
        byte[] out = new byte[HEADER_LENGTH + count * LUN_ENTRY_LENGTH];
        InquiryData.putU32(out, 0, (long) count * LUN_ENTRY_LENGTH);
        ByteBuffer b = ByteBuffer.wrap(out);
        for (int i = 0; i < count; i++) {
            b.putLong(HEADER_LENGTH + i * LUN_ENTRY_LENGTH, encodeLun(i));
        }
        return out;
    }

    /** Validates the CDB and returns the data for a target with {@code lunCount} LUNs. */
    public static ScsiResponse respond(final ByteBuffer cdb, final int lunCount) {
        ReportLuns r = new ReportLuns(cdb);
        if ((r.control() & CONTROL_NACA) != 0) {
            throw CheckConditionException.invalidFieldInCdb(r.controlOffset(), 2);
        }
        int select = r.selectReport();
        if (select != SELECT_ALL_LOGICAL_UNITS && select != SELECT_WELL_KNOWN && select != SELECT_ALL) {
            throw CheckConditionException.invalidFieldInCdb(SELECT_REPORT_OFFSET, -1);
        }
        if (r.allocationLength() < MIN_ALLOCATION_LENGTH) {
            throw CheckConditionException.invalidFieldInCdb(ALLOCATION_LENGTH_OFFSET, -1);
        }
        return ScsiResponses.dataIn(parameterData(lunCount, select), r.allocationLength());
    }
}
