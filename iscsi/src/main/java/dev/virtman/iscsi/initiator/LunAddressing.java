package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.ReportLuns;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Single-level LUN addressing (SAM-5 §4.7): the 8-byte LUN field the iSCSI BHS carries. LUNs
 * below 256 use the peripheral device method (first byte 00h, second byte the LUN), larger
 * ones the flat space method (first two bits 01b, 14-bit LUN), as Linux and libiscsi do.
 *
 * <pre>
 *  Byte 0: | 0 0 |  bus (0)  |      Byte 0: | 0 1 | LUN (13-8) |
 *  Byte 1: |      LUN        |      Byte 1: |    LUN (7-0)     |
 *  Bytes 2-7: 0 (single level)
 * </pre>
 */
public final class LunAddressing {

    public static final int PERIPHERAL_LIMIT = 256;
    public static final int FLAT_METHOD = 0x40;
    public static final int METHOD_MASK = 0xc0;
    public static final int FLAT_LUN_MASK = 0x3fff;
    /** The LUN sits in the top two bytes of the 64-bit field. */
    private static final int FIRST_LEVEL_SHIFT = 48;
    private static final int MAX_REPORTED_LUNS = 16384;

    private LunAddressing() {
    }

    /** The 64-bit LUN field for {@code lun}. */
    public static long encode(final int lun) {
        if (lun < 0 || lun > FLAT_LUN_MASK) {
            throw new IllegalArgumentException("LUN out of range: " + lun);
        }
        long firstLevel = lun < PERIPHERAL_LIMIT ? lun : FLAT_METHOD << Byte.SIZE | lun;
        return firstLevel << FIRST_LEVEL_SHIFT;
    }

    /** The LUN number in a single-level LUN field, or -1 for an addressing method we do not decode. */
    public static int decode(final long field) {
        if ((field & ((1L << FIRST_LEVEL_SHIFT) - 1)) != 0) {
            return -1;
        }
        int firstLevel = (int) (field >>> FIRST_LEVEL_SHIFT);
        int method = firstLevel >>> Byte.SIZE & METHOD_MASK;
        if (method == 0) {
            return firstLevel <= 0xff ? firstLevel : -1;
        }
        return method == FLAT_METHOD ? firstLevel & FLAT_LUN_MASK : -1;
    }

    /** The LUNs in REPORT LUNS parameter data (SPC-4 §6.33.2), bounded by what was actually sent. */
    public static List<Integer> parseReportLuns(final ByteBuffer data) {
        if (data.limit() < ReportLuns.HEADER_LENGTH) {
            throw new IllegalArgumentException("REPORT LUNS data shorter than its header");
        }
        long listLength = Integer.toUnsignedLong(data.getInt(0));
        long available = (data.limit() - ReportLuns.HEADER_LENGTH) / ReportLuns.LUN_ENTRY_LENGTH;
        long count = Math.min(Math.min(listLength / ReportLuns.LUN_ENTRY_LENGTH, available), MAX_REPORTED_LUNS);
        List<Integer> luns = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            int lun = decode(data.getLong(ReportLuns.HEADER_LENGTH + i * ReportLuns.LUN_ENTRY_LENGTH));
            if (lun >= 0) {
                luns.add(lun);
            }
        }
        return List.copyOf(luns);
    }
}
