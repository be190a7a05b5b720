package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.InquiryData;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The parts of standard INQUIRY data the initiator uses (SPC-4 §6.4.2; layout drawn in
 * {@link InquiryData}).
 *
 * @param peripheralQualifier 0 = a unit is connected at this LUN; 3 = none can be
 * @param deviceType          0 = direct-access block device (SBC)
 * @param vendor              T10 VENDOR IDENTIFICATION, trimmed
 * @param product             PRODUCT IDENTIFICATION, trimmed
 * @param revision            PRODUCT REVISION LEVEL, trimmed
 */
public record InquiryInfo(int peripheralQualifier, int deviceType, String vendor, String product, String revision) {

    public static final int QUALIFIER_SHIFT = 5;
    public static final int DEVICE_TYPE_MASK = 0x1f;
    public static final int QUALIFIER_MASK = 0x07;
    /** Enough for the identification fields. */
    public static final int MIN_LENGTH = InquiryData.REVISION_OFFSET + 4;

    /** Parses standard INQUIRY data; fields the target did not send come back empty. */
    public static InquiryInfo parse(final ByteBuffer data) {
        if (data.limit() < 1) {
            throw new IllegalArgumentException("empty INQUIRY data");
        }
        int b0 = data.get(0) & 0xff;
        return new InquiryInfo(b0 >>> QUALIFIER_SHIFT & QUALIFIER_MASK, b0 & DEVICE_TYPE_MASK,
                ascii(data, InquiryData.VENDOR_OFFSET, InquiryData.PRODUCT_OFFSET),
                ascii(data, InquiryData.PRODUCT_OFFSET, InquiryData.REVISION_OFFSET),
                ascii(data, InquiryData.REVISION_OFFSET, MIN_LENGTH));
    }

    /** Whether a direct-access (disk) logical unit is present at this LUN. */
    public boolean isDisk() {
        return peripheralQualifier == 0 && deviceType == InquiryData.DEVICE_TYPE_DIRECT_ACCESS;
    }

    private static String ascii(final ByteBuffer data, final int from, final int to) {
        int end = Math.min(to, data.limit());
        if (from >= end) {
            return "";
        }
        byte[] b = new byte[end - from];
        data.get(from, b);
        return new String(b, StandardCharsets.US_ASCII).trim();
    }
}
