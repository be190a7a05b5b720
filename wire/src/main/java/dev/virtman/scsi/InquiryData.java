package dev.virtman.scsi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The data-in of INQUIRY for one direct-access logical unit: standard data (SPC-4 §6.4.2) and the
 * vital product data pages (SPC-4 §7.8, SBC-3 §6.5). Built once per LUN; INQUIRY then only
 * truncates to the allocation length.
 *
 * <pre>
 * Standard INQUIRY data (SPC-4 table 142), the fields we set:
 *  Byte 0      PERIPHERAL QUALIFIER (7-5) = 000b | PERIPHERAL DEVICE TYPE (4-0) = 00h (SBC)
 *       1      RMB = 0 (not removable)
 *       2      VERSION = 06h (SPC-4)
 *       3      NORMACA = 0 | HISUP = 1 | RESPONSE DATA FORMAT = 2
 *       4      ADDITIONAL LENGTH (n - 4)
 *       7      CMDQUE = 1 (full task management / command queuing)
 *       8-15   T10 VENDOR IDENTIFICATION
 *       16-31  PRODUCT IDENTIFICATION
 *       32-35  PRODUCT REVISION LEVEL
 *       58-73  VERSION DESCRIPTORS 1..8
 *
 * Every VPD page (SPC-4 §7.8.1):
 *  Byte 0      PERIPHERAL QUALIFIER | PERIPHERAL DEVICE TYPE
 *       1      PAGE CODE
 *       2-3    PAGE LENGTH (n - 3)
 *       4..n   page-specific
 * </pre>
 */
public final class InquiryData {
    public static final int DEVICE_TYPE_DIRECT_ACCESS = 0x00;
    /** SPC-4 §6.4.2: qualifier 011b + type 1Fh = "no logical unit at this LUN". */
    public static final int NO_LOGICAL_UNIT = 0x7F;
    public static final int VERSION_SPC4 = 0x06;
    public static final int HISUP = 0x10;
    public static final int RESPONSE_DATA_FORMAT = 0x02;
    public static final int CMDQUE = 0x02;

    public static final int STANDARD_LENGTH = 96;
    public static final int ADDITIONAL_LENGTH_OFFSET = 4;
    public static final int CMDQUE_OFFSET = 7;
    public static final int VENDOR_OFFSET = 8;
    public static final int PRODUCT_OFFSET = 16;
    public static final int REVISION_OFFSET = 32;
    public static final int VERSION_DESCRIPTORS_OFFSET = 58;
    /** SPC-4 Annex E version descriptors: SAM-5, iSCSI (no version claimed), SPC-4, SBC-3. */
    public static final int[] VERSION_DESCRIPTORS = {0x00A0, 0x0960, 0x0460, 0x04C0};

    public static final int PAGE_SUPPORTED_VPD = 0x00;
    public static final int PAGE_UNIT_SERIAL_NUMBER = 0x80;
    public static final int PAGE_DEVICE_IDENTIFICATION = 0x83;
    public static final int PAGE_BLOCK_LIMITS = 0xB0;
    public static final int PAGE_BLOCK_DEVICE_CHARACTERISTICS = 0xB1;
    public static final int PAGE_LOGICAL_BLOCK_PROVISIONING = 0xB2;
    private static final int[] SUPPORTED_PAGES = {PAGE_SUPPORTED_VPD, PAGE_UNIT_SERIAL_NUMBER,
            PAGE_DEVICE_IDENTIFICATION, PAGE_BLOCK_LIMITS, PAGE_BLOCK_DEVICE_CHARACTERISTICS,
            PAGE_LOGICAL_BLOCK_PROVISIONING};

    public static final int VPD_HEADER_LENGTH = 4;
    public static final int VPD_PAGE_CODE_OFFSET = 1;
    public static final int VPD_PAGE_LENGTH_OFFSET = 2;

    /** Designation descriptor (SPC-4 §7.8.6.1): CODE SET, ASSOCIATION, DESIGNATOR TYPE, LENGTH. */
    public static final int DESIGNATOR_HEADER_LENGTH = 4;
    public static final int CODE_SET_BINARY = 0x1;
    public static final int CODE_SET_ASCII = 0x2;
    public static final int ASSOCIATION_LOGICAL_UNIT = 0x0;
    public static final int DESIGNATOR_T10_VENDOR_ID = 0x1;
    public static final int DESIGNATOR_EUI64 = 0x2;
    public static final int DESIGNATOR_NAA = 0x3;
    private static final int ASSOCIATION_SHIFT = 4;

    /** Block Limits VPD (SBC-3 §6.5.3) offsets; the page is 64 bytes (page length 3Ch). */
    public static final int BLOCK_LIMITS_PAGE_LENGTH = 0x3C;
    public static final int BL_WSNZ_OFFSET = 4;
    public static final int BL_MAX_COMPARE_AND_WRITE_OFFSET = 5;
    public static final int BL_OPTIMAL_GRANULARITY_OFFSET = 6;
    public static final int BL_MAX_TRANSFER_OFFSET = 8;
    public static final int BL_OPTIMAL_TRANSFER_OFFSET = 12;
    public static final int BL_MAX_PREFETCH_OFFSET = 16;
    public static final int BL_MAX_UNMAP_LBA_COUNT_OFFSET = 20;
    public static final int BL_MAX_UNMAP_DESCRIPTORS_OFFSET = 24;
    public static final int BL_MAX_WRITE_SAME_OFFSET = 36;

    /** Block Device Characteristics VPD (SBC-3 §6.5.2): 0001h = non-rotating medium (SSD-like). */
    public static final int BDC_PAGE_LENGTH = 0x3C;
    public static final int BDC_ROTATION_RATE_OFFSET = 4;
    public static final int NON_ROTATING = 0x0001;

    /** Logical Block Provisioning VPD (SBC-3 §6.5.4); provisioning type 0 = fully provisioned. */
    public static final int LBP_PAGE_LENGTH = 0x04;
    public static final int LBP_FLAGS_OFFSET = 5;
    public static final int LBP_PROVISIONING_TYPE_OFFSET = 6;

    private final byte[] standard;
    private final byte[] supportedPages;
    private final byte[] unitSerialNumber;
    private final byte[] deviceIdentification;
    private final byte[] blockLimits;
    private final byte[] blockDeviceCharacteristics;
    private final byte[] logicalBlockProvisioning;

    public InquiryData(final DiskIdentity identity, final BlockLimits limits) {
        this.standard = standard(identity);
        this.supportedPages = supportedPages();
        this.unitSerialNumber = unitSerialNumber(identity);
        this.deviceIdentification = deviceIdentification(identity);
        this.blockLimits = blockLimits(limits);
        this.blockDeviceCharacteristics = blockDeviceCharacteristics();
        this.logicalBlockProvisioning = logicalBlockProvisioning();
    }

    /** Standard INQUIRY data (copy). */
    public byte[] standard() {
        return standard.clone();
    }

    /** The VPD page {@code pageCode}, or {@code null} when we do not have it. */
    public byte[] vpdPage(final int pageCode) {
        byte[] page = switch (pageCode) {
            case PAGE_SUPPORTED_VPD -> supportedPages;
            case PAGE_UNIT_SERIAL_NUMBER -> unitSerialNumber;
            case PAGE_DEVICE_IDENTIFICATION -> deviceIdentification;
            case PAGE_BLOCK_LIMITS -> blockLimits;
            case PAGE_BLOCK_DEVICE_CHARACTERISTICS -> blockDeviceCharacteristics;
            case PAGE_LOGICAL_BLOCK_PROVISIONING -> logicalBlockProvisioning;
            default -> null;
        };
        return page == null ? null : page.clone();
    }

    /**
     * Standard data for a LUN with no logical unit behind it (SPC-4 §6.4.2: qualifier 011b,
     * type 1Fh). Only the first bytes matter; the rest is zero.
     */
    public static byte[] noLogicalUnit() {
        byte[] b = new byte[STANDARD_LENGTH];
        b[0] = (byte) NO_LOGICAL_UNIT;
        b[2] = (byte) VERSION_SPC4;
        b[3] = (byte) (HISUP | RESPONSE_DATA_FORMAT);
        b[ADDITIONAL_LENGTH_OFFSET] = (byte) (STANDARD_LENGTH - (ADDITIONAL_LENGTH_OFFSET + 1));
        return b;
    }

    private static byte[] standard(final DiskIdentity identity) {
        byte[] b = new byte[STANDARD_LENGTH];
        b[0] = (byte) DEVICE_TYPE_DIRECT_ACCESS;
        b[2] = (byte) VERSION_SPC4;
        b[3] = (byte) (HISUP | RESPONSE_DATA_FORMAT);
        b[ADDITIONAL_LENGTH_OFFSET] = (byte) (STANDARD_LENGTH - (ADDITIONAL_LENGTH_OFFSET + 1));
        b[CMDQUE_OFFSET] = (byte) CMDQUE;
        putPadded(b, VENDOR_OFFSET, identity.vendor(), DiskIdentity.VENDOR_LENGTH);
        putPadded(b, PRODUCT_OFFSET, identity.product(), DiskIdentity.PRODUCT_LENGTH);
        putPadded(b, REVISION_OFFSET, identity.revision(), DiskIdentity.REVISION_LENGTH);
        for (int i = 0; i < VERSION_DESCRIPTORS.length; i++) {
            putU16(b, VERSION_DESCRIPTORS_OFFSET + 2 * i, VERSION_DESCRIPTORS[i]);
        }
        return b;
    }

    private static byte[] supportedPages() {
        byte[] b = vpdHeader(PAGE_SUPPORTED_VPD, SUPPORTED_PAGES.length);
        for (int i = 0; i < SUPPORTED_PAGES.length; i++) {
            b[VPD_HEADER_LENGTH + i] = (byte) SUPPORTED_PAGES[i];
        }
        return b;
    }

    private static byte[] unitSerialNumber(final DiskIdentity identity) {
        byte[] serial = identity.serialNumber().getBytes(StandardCharsets.US_ASCII);
        byte[] b = vpdHeader(PAGE_UNIT_SERIAL_NUMBER, serial.length);
        System.arraycopy(serial, 0, b, VPD_HEADER_LENGTH, serial.length);
        return b;
    }

    /**
     * Logical-unit designators only (SPC-4 §7.8.6): NAA, EUI-64 and T10 vendor id. Target port
     * and target device designators belong to the transport, which knows its ports; inventing
     * them here would mislead multipath software.
     */
    private static byte[] deviceIdentification(final DiskIdentity identity) {
        byte[] vendor = padded(identity.vendor(), DiskIdentity.VENDOR_LENGTH);
        byte[] serial = identity.serialNumber().getBytes(StandardCharsets.US_ASCII);
        byte[] t10 = new byte[vendor.length + serial.length];
        System.arraycopy(vendor, 0, t10, 0, vendor.length);
        System.arraycopy(serial, 0, t10, vendor.length, serial.length);
        byte[] naa = ByteBuffer.allocate(Long.BYTES).putLong(identity.naa()).array();
        byte[] eui = ByteBuffer.allocate(Long.BYTES).putLong(identity.eui64()).array();

        int length = 3 * DESIGNATOR_HEADER_LENGTH + naa.length + eui.length + t10.length;
        byte[] b = vpdHeader(PAGE_DEVICE_IDENTIFICATION, length);
        int at = VPD_HEADER_LENGTH;
        at = putDesignator(b, at, CODE_SET_BINARY, DESIGNATOR_NAA, naa);
        at = putDesignator(b, at, CODE_SET_BINARY, DESIGNATOR_EUI64, eui);
        putDesignator(b, at, CODE_SET_ASCII, DESIGNATOR_T10_VENDOR_ID, t10);
        return b;
    }

    private static byte[] blockLimits(final BlockLimits limits) {
        byte[] b = vpdHeader(PAGE_BLOCK_LIMITS, BLOCK_LIMITS_PAGE_LENGTH);
        // WSNZ = 1: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 ("to the end") is refused (SBC-3 §5.42).
        b[BL_WSNZ_OFFSET] = 1;
        b[BL_MAX_COMPARE_AND_WRITE_OFFSET] = (byte) limits.maxCompareAndWriteBlocks();
        putU16(b, BL_OPTIMAL_GRANULARITY_OFFSET, limits.optimalGranularityBlocks());
        putU32(b, BL_MAX_TRANSFER_OFFSET, limits.maxTransferBlocks());
        putU32(b, BL_OPTIMAL_TRANSFER_OFFSET, limits.optimalTransferBlocks());
        putU32(b, BL_MAX_PREFETCH_OFFSET, limits.maxTransferBlocks());
        // No UNMAP: MAXIMUM UNMAP LBA COUNT and BLOCK DESCRIPTOR COUNT stay 0 (SBC-3 §6.5.3).
        ByteBuffer.wrap(b).putLong(BL_MAX_WRITE_SAME_OFFSET, limits.maxWriteSameBlocks());
        return b;
    }

    private static byte[] blockDeviceCharacteristics() {
        byte[] b = vpdHeader(PAGE_BLOCK_DEVICE_CHARACTERISTICS, BDC_PAGE_LENGTH);
        putU16(b, BDC_ROTATION_RATE_OFFSET, NON_ROTATING);
        return b;
    }

    private static byte[] logicalBlockProvisioning() {
        // LBPU = LBPWS = LBPWS10 = 0 (no UNMAP), provisioning type 0: fully provisioned.
        return vpdHeader(PAGE_LOGICAL_BLOCK_PROVISIONING, LBP_PAGE_LENGTH);
    }

    private static byte[] vpdHeader(final int pageCode, final int pageLength) {
        byte[] b = new byte[VPD_HEADER_LENGTH + pageLength];
        b[0] = (byte) DEVICE_TYPE_DIRECT_ACCESS;
        b[VPD_PAGE_CODE_OFFSET] = (byte) pageCode;
        putU16(b, VPD_PAGE_LENGTH_OFFSET, pageLength);
        return b;
    }

    private static int putDesignator(final byte[] b, final int at, final int codeSet, final int type,
                                     final byte[] designator) {
        b[at] = (byte) codeSet;
        b[at + 1] = (byte) ((ASSOCIATION_LOGICAL_UNIT << ASSOCIATION_SHIFT) | type);
        b[at + 3] = (byte) designator.length;
        System.arraycopy(designator, 0, b, at + DESIGNATOR_HEADER_LENGTH, designator.length);
        return at + DESIGNATOR_HEADER_LENGTH + designator.length;
    }

    private static byte[] padded(final String s, final int length) {
        byte[] out = new byte[length];
        putPadded(out, 0, s, length);
        return out;
    }

    /** SPC-4 §4.3.1: ASCII fields are left-aligned and padded with spaces. */
    private static void putPadded(final byte[] b, final int at, final String s, final int length) {
        byte[] ascii = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            b[at + i] = i < ascii.length ? ascii[i] : (byte) ' ';
        }
    }

    static void putU16(final byte[] b, final int at, final int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void putU32(final byte[] b, final int at, final long v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
