package dev.virtman.scsi;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35): the commands the disk module's
 * {@code ScsiDisk} implements, each with its CDB USAGE DATA (a bit set for every CDB bit the device server evaluates; SPC-4 §6.35.3).
 *
 * <pre>
 * CDB (MAINTENANCE IN)                      All-commands descriptor (8 bytes, + 12 with CTDP)
 *  Byte 0    OPERATION CODE (A3h)             0     OPERATION CODE
 *       1    Reserved | SERVICE ACTION (0Ch)  1     Reserved
 *       2    RCTD(7) | REPORTING OPTIONS(2-0) 2-3   SERVICE ACTION
 *       3    REQUESTED OPERATION CODE         4     Reserved
 *       4-5  REQUESTED SERVICE ACTION         5     CTDP(1) | SERVACTV(0)
 *       6-9  ALLOCATION LENGTH                6-7   CDB LENGTH
 *       10   Reserved
 *       11   CONTROL                        One-command data: 0 Reserved, 1 CTDP(7) | SUPPORT(2-0),
 *                                             2-3 CDB SIZE, 4.. CDB USAGE DATA
 * Command timeouts descriptor (§6.35.4): 0-1 DESCRIPTOR LENGTH (0Ah), 2 Reserved,
 *   3 COMMAND SPECIFIC, 4-7 NOMINAL COMMAND PROCESSING TIMEOUT, 8-11 RECOMMENDED COMMAND TIMEOUT (s)
 * </pre>
 */
public final class SupportedOperations {
    public static final int RCTD_OFFSET = 2;
    public static final int RCTD_BIT = 7;
    public static final int REPORTING_OPTIONS_OFFSET = 2;
    private static final int REPORTING_OPTIONS_MASK = 0x07;
    public static final int REQUESTED_OPCODE_OFFSET = 3;
    public static final int REQUESTED_SERVICE_ACTION_OFFSET = 4;
    public static final int ALLOCATION_LENGTH_OFFSET = 6;
    public static final int REPORT_ALL = 0b000;
    public static final int REPORT_OPCODE = 0b001;
    public static final int REPORT_OPCODE_AND_SERVICE_ACTION = 0b010;

    private static final int ALL_HEADER_LENGTH = 4;
    private static final int DESCRIPTOR_LENGTH = 8;
    private static final int CTDP = 0x02;
    private static final int SERVACTV = 0x01;
    private static final int ONE_CTDP = 0x80;
    private static final int SUPPORT_NOT_SUPPORTED = 0b001;
    private static final int SUPPORT_STANDARD = 0b011;
    private static final int ONE_HEADER_LENGTH = 4;
    private static final int TIMEOUTS_LENGTH = 12;
    private static final int TIMEOUTS_DESCRIPTOR_LENGTH = 0x0A;
    /** Seconds; a read may wait for an upstream fetch, so we recommend a generous timeout. */
    private static final int NOMINAL_TIMEOUT_SECONDS = 1;
    private static final int RECOMMENDED_TIMEOUT_SECONDS = 60;
    private static final int NO_SERVICE_ACTION = -1;
    private static final int NACA = 0x04;

    /** One supported command: opcode, service action or -1, and its CDB usage bitmap. */
    record Command(int opcode, int serviceAction, byte[] usage) {
    }

    private static Command cmd(final ScsiOpcode op, final int... usage) {
        return sa(op, NO_SERVICE_ACTION, usage);
    }

    private static Command sa(final ScsiOpcode op, final int sa, final int... usage) {
        byte[] u = new byte[usage.length + 1];
        u[0] = (byte) op.code();
        for (int i = 0; i < usage.length; i++) {
            u[i + 1] = (byte) usage[i];
        }
        return new Command(op.code(), sa, u);
    }

    private static final int FF = 0xFF;
    /** Byte 1 of the block commands: xxPROTECT(7-5), DPO(4), FUA(3). */
    private static final int RW_FLAGS = 0xF8;
    /** VERIFY: VRPROTECT, DPO, BYTCHK(2-1). */
    private static final int VERIFY_FLAGS = 0xF6;
    /** WRITE AND VERIFY: WRPROTECT, DPO, BYTCHK(1). */
    private static final int WRITE_VERIFY_FLAGS = 0xF2;
    private static final int GROUP = 0x1F;
    private static final int IMMED = 0x02;

    /** In ascending opcode order, the order SPC-4 suggests and initiators print. */
    static final List<Command> COMMANDS = List.of(
            cmd(ScsiOpcode.TEST_UNIT_READY, 0, 0, 0, 0, NACA),
            cmd(ScsiOpcode.REQUEST_SENSE, 0x01, 0, 0, FF, NACA),
            cmd(ScsiOpcode.READ_6, 0x1F, FF, FF, FF, NACA),
            cmd(ScsiOpcode.WRITE_6, 0x1F, FF, FF, FF, NACA),
            cmd(ScsiOpcode.INQUIRY, 0x03, FF, FF, FF, NACA),
            cmd(ScsiOpcode.MODE_SELECT_6, 0x11, 0, 0, FF, NACA),
            cmd(ScsiOpcode.MODE_SENSE_6, 0x08, FF, FF, FF, NACA),
            cmd(ScsiOpcode.START_STOP_UNIT, 0, 0, 0, 0, NACA),
            cmd(ScsiOpcode.PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 0, NACA),
            cmd(ScsiOpcode.READ_CAPACITY_10, 0, FF, FF, FF, FF, 0, 0, 0x01, NACA),
            cmd(ScsiOpcode.READ_10, RW_FLAGS, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.WRITE_10, RW_FLAGS, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.WRITE_AND_VERIFY_10, WRITE_VERIFY_FLAGS, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.VERIFY_10, VERIFY_FLAGS, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.PRE_FETCH_10, IMMED, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.SYNCHRONIZE_CACHE_10, IMMED, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.WRITE_SAME_10, RW_FLAGS, FF, FF, FF, FF, GROUP, FF, FF, NACA),
            cmd(ScsiOpcode.MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, FF, FF, NACA),
            cmd(ScsiOpcode.MODE_SENSE_10, 0x18, FF, FF, 0, 0, 0, FF, FF, NACA),
            cmd(ScsiOpcode.READ_16, RW_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.COMPARE_AND_WRITE, RW_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0, 0, FF, GROUP, NACA),
            cmd(ScsiOpcode.WRITE_16, RW_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.ORWRITE_16, RW_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.WRITE_AND_VERIFY_16, WRITE_VERIFY_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF,
                    FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.VERIFY_16, VERIFY_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.PRE_FETCH_16, IMMED, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.SYNCHRONIZE_CACHE_16, IMMED, FF, FF, FF, FF, FF, FF, FF, FF,
                    FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.WRITE_SAME_16, RW_FLAGS | 0x01, FF, FF, FF, FF, FF, FF, FF, FF,
                    FF, FF, FF, FF, GROUP, NACA),
            sa(ScsiOpcode.SERVICE_ACTION_IN_16, ScsiOpcode.SA_READ_CAPACITY_16,
                    ScsiOpcode.SA_READ_CAPACITY_16, 0, 0, 0, 0, 0, 0, 0, 0, FF, FF, FF, FF, 0, NACA),
            sa(ScsiOpcode.SERVICE_ACTION_IN_16, ScsiOpcode.SA_GET_LBA_STATUS,
                    ScsiOpcode.SA_GET_LBA_STATUS, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, NACA),
            cmd(ScsiOpcode.REPORT_LUNS, 0, FF, 0, 0, 0, FF, FF, FF, FF, 0, NACA),
            sa(ScsiOpcode.MAINTENANCE_IN, ScsiOpcode.SA_REPORT_SUPPORTED_OPERATION_CODES,
                    ScsiOpcode.SA_REPORT_SUPPORTED_OPERATION_CODES, 0x87, FF, FF, FF, FF, FF, FF, FF, 0, NACA),
            cmd(ScsiOpcode.READ_12, RW_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.WRITE_12, RW_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.WRITE_AND_VERIFY_12, WRITE_VERIFY_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA),
            cmd(ScsiOpcode.VERIFY_12, VERIFY_FLAGS, FF, FF, FF, FF, FF, FF, FF, FF, GROUP, NACA));

    private SupportedOperations() {
    }

    /** Answers REPORT SUPPORTED OPERATION CODES. */
    public static ScsiResponse respond(final Cdb cdb) {
        boolean rctd = cdb.bit(RCTD_OFFSET, RCTD_BIT);
        int options = cdb.u8(REPORTING_OPTIONS_OFFSET) & REPORTING_OPTIONS_MASK;
        long allocation = cdb.u32(ALLOCATION_LENGTH_OFFSET);
        byte[] data = switch (options) {
            case REPORT_ALL -> all(rctd);
            case REPORT_OPCODE, REPORT_OPCODE_AND_SERVICE_ACTION -> one(cdb, options, rctd);
            default -> throw CheckConditionException.invalidFieldInCdb(REPORTING_OPTIONS_OFFSET, 2);
        };
        return ScsiResponses.dataIn(data, allocation);
    }

    /** How many commands a REPORT SUPPORTED OPERATION CODES of all commands lists. */
    public static int commandCount() {
        return COMMANDS.size();
    }

    private static byte[] all(final boolean rctd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[ALL_HEADER_LENGTH]);
        for (Command c : COMMANDS) {
            byte[] d = new byte[DESCRIPTOR_LENGTH];
            d[0] = (byte) c.opcode();
            if (c.serviceAction() != NO_SERVICE_ACTION) {
                InquiryData.putU16(d, 2, c.serviceAction());
            }
            d[5] = (byte) ((rctd ? CTDP : 0) | (c.serviceAction() != NO_SERVICE_ACTION ? SERVACTV : 0));
            InquiryData.putU16(d, 6, c.usage().length);
            out.writeBytes(d);
            if (rctd) {
                out.writeBytes(timeouts());
            }
        }
        byte[] data = out.toByteArray();
        InquiryData.putU32(data, 0, data.length - ALL_HEADER_LENGTH);
        return data;
    }

    private static byte[] one(final Cdb cdb, final int options, final boolean rctd) {
        int opcode = cdb.u8(REQUESTED_OPCODE_OFFSET);
        int sa = cdb.u16(REQUESTED_SERVICE_ACTION_OFFSET);
        boolean hasServiceActions = COMMANDS.stream()
                .anyMatch(c -> c.opcode() == opcode && c.serviceAction() != NO_SERVICE_ACTION);
        // SPC-4 §6.35.2: option 001b for a command with service actions, or 010b for one
        // without, is an INVALID FIELD IN CDB.
        if (options == REPORT_OPCODE && hasServiceActions) {
            throw CheckConditionException.invalidFieldInCdb(REPORTING_OPTIONS_OFFSET, 2);
        }
        if (options == REPORT_OPCODE_AND_SERVICE_ACTION && !hasServiceActions
                && COMMANDS.stream().anyMatch(c -> c.opcode() == opcode)) {
            throw CheckConditionException.invalidFieldInCdb(REPORTING_OPTIONS_OFFSET, 2);
        }
        Command match = COMMANDS.stream()
                .filter(c -> c.opcode() == opcode
                        && (options == REPORT_OPCODE || c.serviceAction() == sa))
                .findFirst().orElse(null);
        if (match == null) {
            byte[] d = new byte[ONE_HEADER_LENGTH];
            d[1] = (byte) SUPPORT_NOT_SUPPORTED;
            return d;
        }
        ByteBuffer b = ByteBuffer.allocate(ONE_HEADER_LENGTH + match.usage().length + (rctd ? TIMEOUTS_LENGTH : 0));
        b.put((byte) 0).put((byte) ((rctd ? ONE_CTDP : 0) | SUPPORT_STANDARD)).putShort((short) match.usage().length);
        b.put(match.usage());
        if (rctd) {
            b.put(timeouts());
        }
        return b.array();
    }

    private static byte[] timeouts() {
        ByteBuffer t = ByteBuffer.allocate(TIMEOUTS_LENGTH);
        t.putShort((short) TIMEOUTS_DESCRIPTOR_LENGTH).put((byte) 0).put((byte) 0);
        t.putInt(NOMINAL_TIMEOUT_SECONDS).putInt(RECOMMENDED_TIMEOUT_SECONDS);
        return t.array();
    }
}
