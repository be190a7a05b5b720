package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.ScsiCdbs;
import dev.virtman.scsi.InquiryData;
import dev.virtman.scsi.SenseKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The questions an initiator asks a logical unit before using it (SPC-4 INQUIRY and VPD pages,
 * SBC-3 READ CAPACITY, REPORT LUNS), run through {@link IscsiSession#execute} and parsed, with
 * the fallbacks older units need.
 */
final class UnitQueries {

    private static final int INQUIRY_ALLOCATION = 255;
    private static final int REPORT_LUNS_ALLOCATION = 8 + 8 * 256;

    private UnitQueries() {
    }

    static InquiryInfo inquiry(final IscsiSession session, final int lun) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(INQUIRY_ALLOCATION);
        int n = session.execute(lun, ScsiCdbs.inquiry(-1, INQUIRY_ALLOCATION), b, "INQUIRY");
        return InquiryInfo.parse(b.limit(n));
    }

    /** One VPD page (SPC-4 §7.8), as much of it as the target sent. */
    static ByteBuffer vpdPage(final IscsiSession session, final int lun, final int page) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(INQUIRY_ALLOCATION);
        int n = session.execute(lun, ScsiCdbs.inquiry(page, INQUIRY_ALLOCATION), b, "INQUIRY VPD " + Integer.toHexString(page));
        return b.limit(n);
    }

    /** The Block Limits VPD page, or {@link BlockLimitsPage#NOT_REPORTED} if the unit has none. */
    static BlockLimitsPage blockLimits(final IscsiSession session, final int lun) throws IOException {
        try {
            return BlockLimitsPage.parse(vpdPage(session, lun, InquiryData.PAGE_BLOCK_LIMITS));
        } catch (ScsiCheckConditionException e) {
            if (e.senseKey() == SenseKey.ILLEGAL_REQUEST.code()) {
                return BlockLimitsPage.NOT_REPORTED;
            }
            throw e;
        }
    }

    /** READ CAPACITY(16), falling back to READ CAPACITY(10) for units that do not know it (SBC-3 §5.16). */
    static Capacity readCapacity(final IscsiSession session, final int lun) throws IOException {
        try {
            ByteBuffer b = ByteBuffer.allocate(Capacity.LENGTH_16);
            int n = session.execute(lun, ScsiCdbs.readCapacity16(Capacity.LENGTH_16), b, "READ CAPACITY(16)");
            return parse(() -> Capacity.parse16(b.limit(n)));
        } catch (ScsiCheckConditionException e) {
            if (e.senseKey() != SenseKey.ILLEGAL_REQUEST.code()) {
                throw e;
            }
        }
        ByteBuffer b = ByteBuffer.allocate(Capacity.LENGTH_10);
        int n = session.execute(lun, ScsiCdbs.readCapacity10(), b, "READ CAPACITY(10)");
        Capacity c = parse(() -> Capacity.parse10(b.limit(n)));
        if (c.lastLba() == Capacity.LBA_10_SATURATED) {
            throw new IscsiException("unit is larger than READ CAPACITY(10) can express but rejects READ CAPACITY(16)");
        }
        return c;
    }

    /** REPORT LUNS (SPC-4 §6.33), sent to LUN 0. */
    static List<Integer> reportLuns(final IscsiSession session) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(REPORT_LUNS_ALLOCATION);
        int n = session.execute(0, ScsiCdbs.reportLuns(REPORT_LUNS_ALLOCATION), b, "REPORT LUNS");
        return parse(() -> LunAddressing.parseReportLuns(b.limit(n)));
    }

    private interface Parser<T> {
        T parse();
    }

    private static <T> T parse(final Parser<T> parser) throws IscsiException {
        try {
            return parser.parse();
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new IscsiException("target returned unusable data: " + e.getMessage(), e);
        }
    }
}
