package dev.virtman.iscsi.pdu;

/**
 * iSCSI PDU opcodes (RFC 7143 §11.2.1.2). Initiator opcodes are 0x00-0x1f, target opcodes
 * 0x20-0x3f; the low six bits of BHS byte 0 carry the code.
 */
public enum Opcode {
    NOP_OUT(0x00),
    SCSI_COMMAND(0x01),
    TASK_MANAGEMENT_REQUEST(0x02),
    LOGIN_REQUEST(0x03),
    TEXT_REQUEST(0x04),
    DATA_OUT(0x05),
    LOGOUT_REQUEST(0x06),
    SNACK_REQUEST(0x10),

    NOP_IN(0x20),
    SCSI_RESPONSE(0x21),
    TASK_MANAGEMENT_RESPONSE(0x22),
    LOGIN_RESPONSE(0x23),
    TEXT_RESPONSE(0x24),
    DATA_IN(0x25),
    LOGOUT_RESPONSE(0x26),
    READY_TO_TRANSFER(0x31),
    ASYNC_MESSAGE(0x32),
    REJECT(0x3f);

    /** The six opcode bits of BHS byte 0. */
    public static final int MASK = 0x3f;
    /** First code used by targets; lower codes are sent by initiators (§11.2.1.2). */
    private static final int FIRST_TARGET_CODE = 0x20;

    private static final Opcode[] BY_CODE = new Opcode[MASK + 1];

    static {
        for (Opcode op : values()) {
            BY_CODE[op.code] = op;
        }
    }

    private final int code;

    Opcode(final int code) {
        this.code = code;
    }

    /** The six-bit wire code. */
    public int code() {
        return code;
    }

    /** Whether an initiator sends this opcode (a target receives it). */
    public boolean isInitiatorOpcode() {
        return code < FIRST_TARGET_CODE;
    }

    /** The opcode for {@code code}, or {@code null} for a code RFC 7143 does not define (vendor or reserved). */
    public static Opcode fromCode(final int code) {
        return code >= 0 && code <= MASK ? BY_CODE[code] : null;
    }
}
