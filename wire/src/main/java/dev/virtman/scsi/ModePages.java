package dev.virtman.scsi;

import java.io.ByteArrayOutputStream;

/**
 * The mode parameters of a SCSI disk (the disk module's {@code ScsiDisk}; SPC-4 §7.5, SBC-3
 * §6.4): the Caching, Control and Informational Exceptions pages. None is changeable (their changeable masks are all zero), so
 * current, default and saved values are the same and MODE SELECT may only restate them.
 *
 * <pre>
 * Mode parameter header(6)              Mode parameter header(10)
 *  0    MODE DATA LENGTH (n - 1)          0-1  MODE DATA LENGTH (n - 2)
 *  1    MEDIUM TYPE                       2    MEDIUM TYPE
 *  2    DEVICE-SPECIFIC PARAMETER         3    DEVICE-SPECIFIC PARAMETER
 *       (SBC-3 §6.4.1: WP(7), DPOFUA(4))  4    Reserved | LONGLBA(0)
 *  3    BLOCK DESCRIPTOR LENGTH           5    Reserved
 *                                         6-7  BLOCK DESCRIPTOR LENGTH
 * Short LBA block descriptor (SBC-3 §6.4.2.2)   Long LBA block descriptor (§6.4.2.3)
 *  0-3  NUMBER OF LOGICAL BLOCKS                  0-7   NUMBER OF LOGICAL BLOCKS
 *  4    Reserved                                  8-11  Reserved
 *  5-7  LOGICAL BLOCK LENGTH                      12-15 LOGICAL BLOCK LENGTH
 * Each page (SPC-4 §7.5.7): byte 0 PS(7) SPF(6) PAGE CODE(5-0), byte 1 PAGE LENGTH (n - 1).
 * </pre>
 */
public final class ModePages {
    public static final int PAGE_CACHING = 0x08;
    public static final int PAGE_CONTROL = 0x0A;
    public static final int PAGE_INFORMATIONAL_EXCEPTIONS = 0x1C;
    public static final int PAGE_ALL = 0x3F;
    public static final int SUBPAGE_NONE = 0x00;
    public static final int SUBPAGE_ALL = 0xFF;

    public static final int PC_CURRENT = 0;
    public static final int PC_CHANGEABLE = 1;
    public static final int PC_DEFAULT = 2;
    public static final int PC_SAVED = 3;

    public static final int HEADER6_LENGTH = 4;
    public static final int HEADER10_LENGTH = 8;
    public static final int SHORT_DESCRIPTOR_LENGTH = 8;
    public static final int LONG_DESCRIPTOR_LENGTH = 16;
    public static final int DEVICE_SPECIFIC_WP = 0x80;
    public static final int DEVICE_SPECIFIC_DPOFUA = 0x10;
    public static final int HEADER10_LONGLBA = 0x01;
    private static final long SHORT_DESCRIPTOR_MAX_BLOCKS = 0xFFFF_FFFFL;

    /** Caching page (SBC-3 §6.4.5): WCE(2) = 1, writes complete in the host page cache. */
    public static final int CACHING_LENGTH = 0x12;
    public static final int CACHING_FLAGS_OFFSET = 2;
    public static final int CACHING_WCE = 0x04;
    /** Control page (SPC-4 §7.5.8): QUEUE ALGORITHM MODIFIER 1 = unrestricted reordering. */
    public static final int CONTROL_LENGTH = 0x0A;
    public static final int CONTROL_QAM_OFFSET = 3;
    public static final int CONTROL_QAM_UNRESTRICTED = 0x10;
    public static final int CONTROL_SWP_OFFSET = 4;
    public static final int CONTROL_SWP = 0x08;
    public static final int CONTROL_BUSY_TIMEOUT_OFFSET = 8;
    private static final int BUSY_TIMEOUT_UNLIMITED = 0xFFFF;
    /** Informational Exceptions Control page (SPC-4 §7.5.11): all reporting off. */
    public static final int IEC_LENGTH = 0x0A;
    private static final int PAGE_HEADER_LENGTH = 2;

    private static final int[] PAGES = {PAGE_CACHING, PAGE_CONTROL, PAGE_INFORMATIONAL_EXCEPTIONS};

    private ModePages() {
    }

    /** Whether {@code pageCode} is one of ours (not counting 3Fh, all pages). */
    public static boolean isSupported(final int pageCode) {
        for (int p : PAGES) {
            if (p == pageCode) {
                return true;
            }
        }
        return false;
    }

    /**
     * The full MODE SENSE data: header, optional block descriptor, then the page(s).
     *
     * @param writeProtected  sets WP in the device-specific parameter (SBC-3 §6.4.1)
     * @param blockDescriptor 0 (none), {@link #SHORT_DESCRIPTOR_LENGTH} or {@link #LONG_DESCRIPTOR_LENGTH}
     */
    public static byte[] modeSense(final boolean tenByteHeader, final int pageCode, final int pageControl,
                                   final boolean writeProtected, final int blockDescriptor,
                                   final long blocks, final int blockSize) {
        ByteArrayOutputStream pages = new ByteArrayOutputStream();
        for (int p : PAGES) {
            if (pageCode == PAGE_ALL || pageCode == p) {
                pages.writeBytes(page(p, pageControl, writeProtected));
            }
        }
        byte[] descriptor = new byte[blockDescriptor];
        if (blockDescriptor == SHORT_DESCRIPTOR_LENGTH) {
            InquiryData.putU32(descriptor, 0, Math.min(blocks, SHORT_DESCRIPTOR_MAX_BLOCKS));
            descriptor[5] = (byte) (blockSize >>> 16);
            InquiryData.putU16(descriptor, 6, blockSize);
        } else if (blockDescriptor == LONG_DESCRIPTOR_LENGTH) {
            InquiryData.putU32(descriptor, 0, blocks >>> 32);
            InquiryData.putU32(descriptor, 4, blocks);
            InquiryData.putU32(descriptor, 12, blockSize);
        }
        int deviceSpecific = (writeProtected ? DEVICE_SPECIFIC_WP : 0) | DEVICE_SPECIFIC_DPOFUA;
        int headerLength = tenByteHeader ? HEADER10_LENGTH : HEADER6_LENGTH;
        byte[] out = new byte[headerLength + descriptor.length + pages.size()];
        if (tenByteHeader) {
            InquiryData.putU16(out, 0, out.length - 2);
            out[3] = (byte) deviceSpecific;
            out[4] = (byte) (blockDescriptor == LONG_DESCRIPTOR_LENGTH ? HEADER10_LONGLBA : 0);
            InquiryData.putU16(out, 6, descriptor.length);
        } else {
            out[0] = (byte) Math.min(out.length - 1, 0xFF);
            out[2] = (byte) deviceSpecific;
            out[3] = (byte) descriptor.length;
        }
        System.arraycopy(descriptor, 0, out, headerLength, descriptor.length);
        byte[] pageBytes = pages.toByteArray();
        System.arraycopy(pageBytes, 0, out, headerLength + descriptor.length, pageBytes.length);
        return out;
    }

    /** One page's bytes for page control {@code pc} (saved = default = current: nothing is saveable). */
    public static byte[] page(final int pageCode, final int pc, final boolean writeProtected) {
        int length = switch (pageCode) {
            case PAGE_CACHING -> CACHING_LENGTH;
            case PAGE_CONTROL -> CONTROL_LENGTH;
            case PAGE_INFORMATIONAL_EXCEPTIONS -> IEC_LENGTH;
            default -> throw new IllegalArgumentException("unsupported mode page " + pageCode);
        };
        byte[] p = new byte[PAGE_HEADER_LENGTH + length];
        p[0] = (byte) pageCode;
        p[1] = (byte) length;
        if (pc == PC_CHANGEABLE) {
            return p;
        }
        switch (pageCode) {
            case PAGE_CACHING -> p[CACHING_FLAGS_OFFSET] = (byte) CACHING_WCE;
            case PAGE_CONTROL -> {
                p[CONTROL_QAM_OFFSET] = (byte) CONTROL_QAM_UNRESTRICTED;
                InquiryData.putU16(p, CONTROL_BUSY_TIMEOUT_OFFSET, BUSY_TIMEOUT_UNLIMITED);
            }
            default -> {
            }
        }
        return p;
    }
}
