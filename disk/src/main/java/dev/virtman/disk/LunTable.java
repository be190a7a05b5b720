package dev.virtman.disk;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.Cdb;
import dev.virtman.scsi.CheckConditionException;
import dev.virtman.scsi.InquiryCdb;
import dev.virtman.scsi.InquiryData;
import dev.virtman.scsi.ReportLuns;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiCommandExecutor;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiResponses;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A target's logical units, LUN i being the i-th disk: routes each command by its LUN field
 * (SAM-5 §4.7.7 single-level peripheral or flat addressing) and answers the commands SPC-4 wants
 * answered for LUNs that do not exist.
 *
 * <ul>
 *   <li>REPORT LUNS is answered for any LUN, including a LUN 0 with no disk (SPC-4 §6.33, SAM-5
 *       §4.6.3: LUN 0 or the REPORT LUNS well-known LU must accept it).</li>
 *   <li>INQUIRY to a missing LUN returns standard data with peripheral qualifier 011b and device
 *       type 1Fh (SPC-4 §6.4.2).</li>
 *   <li>REQUEST SENSE to a missing LUN returns LOGICAL UNIT NOT SUPPORTED as parameter data with
 *       GOOD status (SPC-4 §6.39).</li>
 *   <li>Anything else to a missing LUN: CHECK CONDITION, ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED.</li>
 * </ul>
 */
public final class LunTable implements ScsiCommandExecutor {
    private static final int INQUIRY_EVPD_OFFSET = 1;
    private static final int REQUEST_SENSE_ALLOCATION_LENGTH_OFFSET = 4;

    private final List<ScsiDisk> luns;

    public LunTable(final List<ScsiDisk> lunsInOrder) {
        if (lunsInOrder.size() > ReportLuns.FLAT_MAX + 1) {
            throw new IllegalArgumentException("at most " + (ReportLuns.FLAT_MAX + 1) + " LUNs");
        }
        this.luns = List.copyOf(lunsInOrder);
    }

    public List<ScsiDisk> luns() {
        return luns;
    }

    @Override
    public ScsiResponse execute(final ScsiCommand command) {
        ByteBuffer cdb = command.cdb().duplicate().position(0).slice();
        int opcode = cdb.limit() > 0 ? cdb.get(0) & 0xFF : -1;
        try {
            if (opcode == ScsiOpcode.REPORT_LUNS.code()) {
                return ReportLuns.respond(cdb, luns.size());
            }
            int lun = ReportLuns.decodeLun(command.lun());
            if (lun >= 0 && lun < luns.size()) {
                return luns.get(lun).execute(command);
            }
            return missingLun(cdb, opcode);
        } catch (CheckConditionException e) {
            return ScsiResponses.checkCondition(e.sense());
        }
    }

    /** A READ to an existing LUN whose disk says so; anything else goes to a worker. */
    @Override
    public boolean completesWithoutWaiting(final ScsiCommand command) {
        int lun;
        try {
            lun = ReportLuns.decodeLun(command.lun());
        } catch (RuntimeException e) {
            return false;
        }
        return lun >= 0 && lun < luns.size() && luns.get(lun).completesWithoutWaiting(command);
    }

    private static ScsiResponse missingLun(final ByteBuffer cdb, final int opcode) {
        Cdb c = Cdb.of(cdb);
        if (opcode == ScsiOpcode.INQUIRY.code() && !c.bit(INQUIRY_EVPD_OFFSET, 0)) {
            return ScsiResponses.dataIn(InquiryData.noLogicalUnit(), new InquiryCdb(cdb).allocationLength());
        }
        if (opcode == ScsiOpcode.REQUEST_SENSE.code()) {
            byte[] sense = SenseData.of(SenseKey.ILLEGAL_REQUEST, AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED).toBytes();
            return ScsiResponses.dataIn(sense, c.u8(REQUEST_SENSE_ALLOCATION_LENGTH_OFFSET));
        }
        throw CheckConditionException.illegalRequest(AdditionalSense.LOGICAL_UNIT_NOT_SUPPORTED);
    }
}
