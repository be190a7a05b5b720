package dev.virtman.scsi;

/** SAM-5 §5.3 status codes, the byte a {@link ScsiResponse} carries in {@code status}. */
public enum ScsiStatus {
    GOOD(0x00),
    CHECK_CONDITION(0x02),
    CONDITION_MET(0x04),
    BUSY(0x08),
    RESERVATION_CONFLICT(0x18),
    TASK_SET_FULL(0x28),
    ACA_ACTIVE(0x30),
    TASK_ABORTED(0x40);

    private final int code;

    ScsiStatus(final int code) {
        this.code = code;
    }

    /** The status byte as sent on the wire. */
    public int code() {
        return code;
    }

    /** The status with this byte, or null for a code SAM-5 does not define. */
    public static ScsiStatus of(final int code) {
        for (ScsiStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }

    /** The status named as SAM-5 writes it ("CHECK CONDITION"), or the byte in hex when undefined. */
    public static String label(final int code) {
        ScsiStatus s = of(code);
        return s == null ? String.format("0x%02x", code) : s.name().replace('_', ' ');
    }
}
