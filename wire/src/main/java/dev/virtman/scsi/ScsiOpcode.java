package dev.virtman.scsi;

/**
 * Operation codes (SPC-4 §4.3.5, SBC-3 §5; the full list is SPC-4 Annex D) this device server
 * knows by name. Knowing a name does not mean supporting it: the disk module's {@code ScsiDisk}
 * answers the ones it does not implement with INVALID COMMAND OPERATION CODE like any unknown byte.
 */
public enum ScsiOpcode {
    TEST_UNIT_READY(0x00),
    REQUEST_SENSE(0x03),
    READ_6(0x08),
    WRITE_6(0x0A),
    INQUIRY(0x12),
    MODE_SELECT_6(0x15),
    RESERVE_6(0x16),
    RELEASE_6(0x17),
    MODE_SENSE_6(0x1A),
    START_STOP_UNIT(0x1B),
    RECEIVE_DIAGNOSTIC_RESULTS(0x1C),
    SEND_DIAGNOSTIC(0x1D),
    PREVENT_ALLOW_MEDIUM_REMOVAL(0x1E),
    READ_CAPACITY_10(0x25),
    READ_10(0x28),
    WRITE_10(0x2A),
    WRITE_AND_VERIFY_10(0x2E),
    VERIFY_10(0x2F),
    PRE_FETCH_10(0x34),
    SYNCHRONIZE_CACHE_10(0x35),
    READ_DEFECT_DATA_10(0x37),
    WRITE_BUFFER(0x3B),
    READ_BUFFER(0x3C),
    WRITE_SAME_10(0x41),
    UNMAP(0x42),
    SANITIZE(0x48),
    LOG_SELECT(0x4C),
    LOG_SENSE(0x4D),
    MODE_SELECT_10(0x55),
    MODE_SENSE_10(0x5A),
    PERSISTENT_RESERVE_IN(0x5E),
    PERSISTENT_RESERVE_OUT(0x5F),
    EXTENDED_COPY(0x83),
    RECEIVE_COPY_RESULTS(0x84),
    READ_16(0x88),
    COMPARE_AND_WRITE(0x89),
    WRITE_16(0x8A),
    ORWRITE_16(0x8B),
    WRITE_AND_VERIFY_16(0x8E),
    VERIFY_16(0x8F),
    PRE_FETCH_16(0x90),
    SYNCHRONIZE_CACHE_16(0x91),
    WRITE_SAME_16(0x93),
    WRITE_ATOMIC_16(0x9C),
    /** SERVICE ACTION IN(16): READ CAPACITY(16) is service action 10h, GET LBA STATUS 12h. */
    SERVICE_ACTION_IN_16(0x9E),
    REPORT_LUNS(0xA0),
    /** MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES is service action 0Ch. */
    MAINTENANCE_IN(0xA3),
    MAINTENANCE_OUT(0xA4),
    READ_12(0xA8),
    WRITE_12(0xAA),
    WRITE_AND_VERIFY_12(0xAE),
    VERIFY_12(0xAF),
    READ_DEFECT_DATA_12(0xB7);

    /** SERVICE ACTION IN(16) service action READ CAPACITY(16) (SBC-3 §5.16). */
    public static final int SA_READ_CAPACITY_16 = 0x10;
    /** SERVICE ACTION IN(16) service action GET LBA STATUS (SBC-3 §5.6). */
    public static final int SA_GET_LBA_STATUS = 0x12;
    /** MAINTENANCE IN service action REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35). */
    public static final int SA_REPORT_SUPPORTED_OPERATION_CODES = 0x0C;

    private static final int OPCODE_COUNT = 256;
    private static final ScsiOpcode[] BY_CODE = new ScsiOpcode[OPCODE_COUNT];
    private static final int GROUP_SHIFT = 5;

    static {
        for (ScsiOpcode op : values()) {
            BY_CODE[op.code] = op;
        }
    }

    private final int code;

    ScsiOpcode(final int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The named opcode for {@code code} (0-255), or {@code null} for one we do not know. */
    public static ScsiOpcode of(final int code) {
        return code >= 0 && code < OPCODE_COUNT ? BY_CODE[code] : null;
    }

    /**
     * CDB length implied by the GROUP CODE, the opcode's top three bits (SPC-4 §4.3.5.1):
     * 0 → 6 bytes, 1-2 → 10, 4 → 16, 5 → 12; 3 (variable length) and 6-7 (vendor) → -1.
     */
    public static int cdbLength(final int opcode) {
        return switch ((opcode & 0xFF) >>> GROUP_SHIFT) {
            case 0 -> 6;
            case 1, 2 -> 10;
            case 4 -> 16;
            case 5 -> 12;
            default -> -1;
        };
    }
}
