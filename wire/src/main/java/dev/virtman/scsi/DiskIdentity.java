package dev.virtman.scsi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Who a logical unit says it is: the INQUIRY identification fields (SPC-4 §6.4.2), the unit serial
 * number (VPD page 80h, §7.8.15) and the logical-unit designators of the Device Identification VPD
 * page (83h, §7.8.6). Initiators (Linux multipath, QEMU) key on the designators, so they must be
 * stable: {@link #fromName} derives them deterministically from a name such as
 * {@code "<target IQN>/<lun>"} or an image id, so every agent exporting the same image under the
 * same name reports the same identity.
 *
 * @param vendor          T10 VENDOR IDENTIFICATION, at most 8 printable ASCII characters
 * @param product         PRODUCT IDENTIFICATION, at most 16
 * @param revision        PRODUCT REVISION LEVEL, at most 4
 * @param serialNumber    PRODUCT SERIAL NUMBER of VPD page 80h, printable ASCII, at most 64
 * @param naa             8-byte NAA designator; top nibble 3 = locally assigned (SPC-4 §7.8.6.6.4)
 * @param eui64           EUI-64 designator (SPC-4 §7.8.6.5)
 * @param forcedReadOnly  report and enforce write protection even over a writable device
 */
public record DiskIdentity(String vendor, String product, String revision, String serialNumber,
                           long naa, long eui64, boolean forcedReadOnly) {

    public static final String DEFAULT_VENDOR = "VIRTMAN";
    public static final String DEFAULT_PRODUCT = "VirtMan disk";
    public static final String DEFAULT_REVISION = "0001";
    public static final int VENDOR_LENGTH = 8;
    public static final int PRODUCT_LENGTH = 16;
    public static final int REVISION_LENGTH = 4;
    public static final int MAX_SERIAL_LENGTH = 64;

    private static final int NAA_LOCALLY_ASSIGNED = 0x3;
    private static final int NAA_SHIFT = 60;
    private static final long NAA_VALUE_MASK = (1L << NAA_SHIFT) - 1;
    /** EUI-64 first octet: U/L bit (locally administered) set, I/G (group) bit clear. */
    private static final long EUI_LOCAL_BIT = 0x02L << 56;
    private static final long EUI_GROUP_BIT = 0x01L << 56;
    private static final int SERIAL_HEX_BYTES = 10;
    private static final int PRINTABLE_FIRST = 0x20;
    private static final int PRINTABLE_LAST = 0x7E;

    public DiskIdentity {
        requirePrintable("vendor", vendor, VENDOR_LENGTH);
        requirePrintable("product", product, PRODUCT_LENGTH);
        requirePrintable("revision", revision, REVISION_LENGTH);
        requirePrintable("serialNumber", serialNumber, MAX_SERIAL_LENGTH);
        if (serialNumber.isBlank()) {
            throw new IllegalArgumentException("serialNumber must not be blank");
        }
    }

    /**
     * Derives serial number, NAA and EUI-64 from SHA-256 of {@code name}: the same name always
     * yields the same identity, different names collide with negligible probability.
     */
    public static DiskIdentity fromName(final String name) {
        byte[] digest = sha256(name);
        ByteBuffer d = ByteBuffer.wrap(digest);
        long naa = ((long) NAA_LOCALLY_ASSIGNED << NAA_SHIFT) | (d.getLong(0) & NAA_VALUE_MASK);
        long eui = (d.getLong(Long.BYTES) | EUI_LOCAL_BIT) & ~EUI_GROUP_BIT;
        String serial = HexFormat.of().formatHex(digest, 2 * Long.BYTES, 2 * Long.BYTES + SERIAL_HEX_BYTES);
        return new DiskIdentity(DEFAULT_VENDOR, DEFAULT_PRODUCT, DEFAULT_REVISION, serial, naa, eui, false);
    }

    public DiskIdentity withForcedReadOnly(final boolean readOnly) {
        return new DiskIdentity(vendor, product, revision, serialNumber, naa, eui64, readOnly);
    }

    private static byte[] sha256(final String name) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void requirePrintable(final String field, final String value, final int maxLength) {
        if (value == null || value.length() > maxLength) {
            throw new IllegalArgumentException(field + " must be at most " + maxLength + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < PRINTABLE_FIRST || c > PRINTABLE_LAST) {
                throw new IllegalArgumentException(field + " must be printable ASCII: " + value);
            }
        }
    }
}
