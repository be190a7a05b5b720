package dev.virtman.disk;

import dev.virtman.block.BlockDevice;
import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.BlockCdb;
import dev.virtman.scsi.BlockLimits;
import dev.virtman.scsi.Cdb16;
import dev.virtman.scsi.Cdb;
import dev.virtman.scsi.CheckConditionException;
import dev.virtman.scsi.DataInBuffers;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.InquiryCdb;
import dev.virtman.scsi.InquiryData;
import dev.virtman.scsi.ModePages;
import dev.virtman.scsi.ModeSelect;
import dev.virtman.scsi.ModeSenseCdb;
import dev.virtman.scsi.ReportLuns;
import dev.virtman.scsi.ScsiCommand;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiResponses;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import dev.virtman.scsi.SupportedOperations;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logical unit: an SBC-3 direct-access block device emulated over a {@link BlockDevice}.
 *
 * <p>Design note. The disk is stateless between commands apart from the device itself: sense
 * data always travels with the CHECK CONDITION (autosense, SAM-5 §5.14), so REQUEST SENSE has
 * nothing pending to report; mode pages are not changeable; the medium is not removable, so
 * START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL change nothing. Commands run concurrently on
 * the caller's threads. The one cross-command rule is the atomicity of COMPARE AND WRITE
 * (SBC-3 §5.3): it holds the write side of a read-write lock, every other write the read side.
 *
 * <p>Memory is bounded by {@link BlockLimits#MAX_TRANSFER_BYTES}: a transfer larger than the
 * MAXIMUM TRANSFER LENGTH advertised in the Block Limits VPD page is refused before any buffer is
 * allocated, and all data-in built from the CDB's ALLOCATION LENGTH is sized by the data, not by
 * the initiator's number.
 *
 * <p>This class dispatches by opcode and answers the SPC-4 commands; the SBC-3 capacity
 * commands are {@link CapacityCommands}, the data-transfer commands {@link BlockCommands} over
 * the {@link Medium}.
 */
public final class ScsiDisk {
    private static final Logger LOG = LoggerFactory.getLogger(ScsiDisk.class);

    private static final int NACA_BIT = 2;
    /** REQUEST SENSE (SPC-4 §6.39): DESC bit in byte 1, ALLOCATION LENGTH in byte 4. */
    private static final int REQUEST_SENSE_DESC_OFFSET = 1;
    private static final int REQUEST_SENSE_ALLOCATION_LENGTH_OFFSET = 4;
    private final BlockDevice device;
    private final DiskIdentity identity;
    private final boolean writable;
    private final int blockSize;
    private final long blocks;
    private final BlockLimits limits;
    private final InquiryData inquiry;
    private final BlockCommands blockCommands;
    private final CapacityCommands capacityCommands;

    public ScsiDisk(final BlockDevice device, final DiskIdentity identity) {
        this.device = device;
        this.identity = identity;
        this.writable = device.isWritable() && !identity.forcedReadOnly();
        this.blockSize = device.logicalBlockSize();
        this.blocks = device.size() / blockSize;
        this.limits = BlockLimits.forBlockSize(blockSize);
        this.inquiry = new InquiryData(identity, limits);
        this.blockCommands = new BlockCommands(new Medium(device, writable, limits));
        this.capacityCommands = new CapacityCommands(blocks, blockSize);
    }

    public DiskIdentity identity() {
        return identity;
    }

    public boolean isWritable() {
        return writable;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Capacity in logical blocks. */
    public long blockCount() {
        return blocks;
    }

    public BlockLimits limits() {
        return limits;
    }

    /** Runs one command; never throws (SAM-5 §5.3: every failure is a status). */
    public ScsiResponse execute(final ScsiCommand command) {
        ByteBuffer cdb = command.cdb().duplicate().position(0).slice();
        ScsiResponse response;
        try {
            response = dispatch(cdb, command.dataOut(), command.dataInBuffers());
        } catch (CheckConditionException e) {
            response = ScsiResponses.checkCondition(e.sense());
        } catch (RuntimeException e) {
            LOG.error("internal failure executing opcode {}", cdb.limit() > 0 ? cdb.get(0) & 0xFF : -1, e);
            response = ScsiResponses.checkCondition(
                    SenseData.of(SenseKey.HARDWARE_ERROR, AdditionalSense.INTERNAL_TARGET_FAILURE));
        }
        long dataOutLength = dataOutTransferLength(cdb);
        return dataOutLength < 0 ? response : response.withDataOutTransferLength(dataOutLength);
    }

    /**
     * How many data-out bytes the CDB asks for (the SPDTL of RFC 7143 §11.4.5.2), so the transport
     * can report write residuals; -1 for commands without data-out.
     */
    private long dataOutTransferLength(final ByteBuffer cdb) {
        if (cdb.limit() == 0) {
            return -1;
        }
        ScsiOpcode op = ScsiOpcode.of(cdb.get(0) & 0xFF);
        if (op == null || cdb.limit() < ScsiOpcode.cdbLength(op.code())) {
            return -1;
        }
        return switch (op) {
            case WRITE_6, WRITE_10, WRITE_12, WRITE_16, WRITE_AND_VERIFY_10, WRITE_AND_VERIFY_12,
                 WRITE_AND_VERIFY_16, ORWRITE_16 -> BlockCdb.of(cdb).transferLength() * blockSize;
            case VERIFY_10, VERIFY_12, VERIFY_16 -> {
                BlockCdb b = BlockCdb.of(cdb);
                yield switch (b.bytchk()) {
                    case BlockCommands.BYTCHK_COMPARE -> b.transferLength() * blockSize;
                    case BlockCommands.BYTCHK_SINGLE_BLOCK -> b.transferLength() == 0 ? 0 : blockSize;
                    default -> -1;
                };
            }
            case WRITE_SAME_10, WRITE_SAME_16 -> {
                boolean ndob = op == ScsiOpcode.WRITE_SAME_16 && (cdb.get(1) & (1 << BlockCommands.WRITE_SAME_NDOB_BIT)) != 0;
                yield ndob ? 0 : blockSize;
            }
            case COMPARE_AND_WRITE -> 2L * (cdb.get(BlockCommands.COMPARE_AND_WRITE_BLOCKS_OFFSET) & 0xFF) * blockSize;
            case MODE_SELECT_6 -> cdb.get(ModeSelect.PARAMETER_LIST_LENGTH_OFFSET_6) & 0xFF;
            case MODE_SELECT_10 -> cdb.getShort(ModeSelect.PARAMETER_LIST_LENGTH_OFFSET_10) & 0xFFFF;
            default -> -1;
        };
    }

    /**
     * READ(6/10/12/16) of blocks the device can read without waiting
     * ({@link BlockDevice#readsWithoutWaiting}); every other command, and anything malformed or out
     * of range (its error is built on a worker as before), is false.
     */
    public boolean completesWithoutWaiting(final ScsiCommand command) {
        ByteBuffer cdb = command.cdb();
        if (cdb.limit() == 0 || command.dataOut() != null) {
            return false;
        }
        int opcode = cdb.get(0) & 0xFF;
        if (opcode != ScsiOpcode.READ_6.code() && opcode != ScsiOpcode.READ_10.code()
                && opcode != ScsiOpcode.READ_12.code() && opcode != ScsiOpcode.READ_16.code()) {
            return false;
        }
        try {
            BlockCdb read = BlockCdb.of(cdb.duplicate().position(0).slice());
            long lba = read.lba();
            long count = read.transferLength();
            if (count <= 0 || lba < 0 || lba > blocks - count || count * blockSize > Integer.MAX_VALUE) {
                return false;
            }
            return device.readsWithoutWaiting(lba * blockSize, (int) (count * blockSize));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private ScsiResponse dispatch(final ByteBuffer cdb, final ByteBuffer dataOut, final DataInBuffers dataInBuffers) {
        if (cdb.limit() == 0) {
            throw CheckConditionException.invalidOpcode();
        }
        Cdb generic = Cdb.of(cdb);
        ScsiOpcode op = ScsiOpcode.of(generic.opcode());
        if (op == null || ScsiOpcode.cdbLength(op.code()) < 0 || cdb.limit() < generic.length()) {
            throw CheckConditionException.invalidOpcode();
        }
        // SAM-5 §5.2: NACA = 1 without ACA support is an INVALID FIELD IN CDB.
        if ((generic.control() & Cdb.CONTROL_NACA) != 0) {
            throw CheckConditionException.invalidFieldInCdb(generic.controlOffset(), NACA_BIT);
        }
        return switch (op) {
            case TEST_UNIT_READY, PREVENT_ALLOW_MEDIUM_REMOVAL, START_STOP_UNIT -> ScsiResponses.good();
            case REQUEST_SENSE -> requestSense(generic);
            case INQUIRY -> inquiry(new InquiryCdb(cdb));
            case REPORT_LUNS -> ReportLuns.respond(cdb, 1);
            case READ_CAPACITY_10 -> capacityCommands.readCapacity10(generic);
            case SERVICE_ACTION_IN_16 -> capacityCommands.serviceActionIn(generic);
            case MODE_SENSE_6, MODE_SENSE_10 -> modeSense(new ModeSenseCdb(cdb));
            case MODE_SELECT_6, MODE_SELECT_10 -> ModeSelect.apply(generic, dataOut, writable, blocks, blockSize);
            case READ_6, READ_10, READ_12, READ_16 -> blockCommands.read(BlockCdb.of(cdb), dataInBuffers);
            case WRITE_6, WRITE_10, WRITE_12, WRITE_16 -> blockCommands.write(BlockCdb.of(cdb), dataOut);
            case WRITE_AND_VERIFY_10, WRITE_AND_VERIFY_12, WRITE_AND_VERIFY_16 ->
                    blockCommands.writeAndVerify(BlockCdb.of(cdb), dataOut);
            case VERIFY_10, VERIFY_12, VERIFY_16 -> blockCommands.verify(BlockCdb.of(cdb), dataOut);
            case SYNCHRONIZE_CACHE_10, SYNCHRONIZE_CACHE_16 -> blockCommands.synchronizeCache(BlockCdb.of(cdb));
            case PRE_FETCH_10, PRE_FETCH_16 -> blockCommands.preFetch(BlockCdb.of(cdb));
            case WRITE_SAME_10, WRITE_SAME_16 -> blockCommands.writeSame(BlockCdb.of(cdb), dataOut);
            case COMPARE_AND_WRITE -> blockCommands.compareAndWrite(new Cdb16(cdb), dataOut);
            case ORWRITE_16 -> blockCommands.orWrite(new Cdb16(cdb), dataOut);
            case MAINTENANCE_IN -> maintenanceIn(generic);
            default -> throw CheckConditionException.invalidOpcode();
        };
    }

    // ---- SPC-4 commands -------------------------------------------------------------------

    /** SPC-4 §6.39: with autosense nothing is ever pending, so the answer is NO SENSE. */
    private ScsiResponse requestSense(final Cdb cdb) {
        int allocation = cdb.u8(REQUEST_SENSE_ALLOCATION_LENGTH_OFFSET);
        SenseData none = SenseData.of(SenseKey.NO_SENSE, AdditionalSense.NO_ADDITIONAL_SENSE_INFORMATION);
        byte[] data = cdb.bit(REQUEST_SENSE_DESC_OFFSET, 0) ? none.toDescriptorHeader() : none.toBytes();
        return ScsiResponses.dataIn(data, allocation);
    }

    /** SPC-4 §6.4: standard data, or one VPD page when EVPD = 1. */
    private ScsiResponse inquiry(final InquiryCdb cdb) {
        if (cdb.cmdDt()) {
            throw CheckConditionException.invalidFieldInCdb(InquiryCdb.FLAGS_OFFSET, InquiryCdb.CMDDT_BIT);
        }
        if (!cdb.evpd()) {
            if (cdb.pageCode() != 0) {
                throw CheckConditionException.invalidFieldInCdb(InquiryCdb.PAGE_CODE_OFFSET, -1);
            }
            return ScsiResponses.dataIn(inquiry.standard(), cdb.allocationLength());
        }
        byte[] page = inquiry.vpdPage(cdb.pageCode());
        if (page == null) {
            throw CheckConditionException.invalidFieldInCdb(InquiryCdb.PAGE_CODE_OFFSET, -1);
        }
        return ScsiResponses.dataIn(page, cdb.allocationLength());
    }

    /** SPC-4 §6.11/§6.12, SBC-3 §6.4: header, block descriptor unless DBD, then the page(s). */
    private ScsiResponse modeSense(final ModeSenseCdb cdb) {
        int pc = cdb.pageControl();
        if (pc == ModePages.PC_SAVED) {
            throw CheckConditionException.illegalRequest(AdditionalSense.SAVING_PARAMETERS_NOT_SUPPORTED);
        }
        int page = cdb.pageCode();
        if (page != ModePages.PAGE_ALL && !ModePages.isSupported(page)) {
            throw CheckConditionException.invalidFieldInCdb(ModeSenseCdb.PAGE_CODE_OFFSET, 5);
        }
        int subpage = cdb.subpageCode();
        if (subpage != ModePages.SUBPAGE_NONE && subpage != ModePages.SUBPAGE_ALL) {
            throw CheckConditionException.invalidFieldInCdb(ModeSenseCdb.SUBPAGE_CODE_OFFSET, -1);
        }
        int descriptor = cdb.disableBlockDescriptors() ? 0
                : cdb.longLbaAccepted() ? ModePages.LONG_DESCRIPTOR_LENGTH : ModePages.SHORT_DESCRIPTOR_LENGTH;
        byte[] data = ModePages.modeSense(cdb.isTenByte(), page, pc, !writable, descriptor, blocks, blockSize);
        return ScsiResponses.dataIn(data, cdb.allocationLength());
    }

    /** MAINTENANCE IN (SPC-4 §6.35): only REPORT SUPPORTED OPERATION CODES. */
    private static ScsiResponse maintenanceIn(final Cdb cdb) {
        if (cdb.serviceAction() != ScsiOpcode.SA_REPORT_SUPPORTED_OPERATION_CODES) {
            throw CheckConditionException.invalidFieldInCdb(1, 4);
        }
        return SupportedOperations.respond(cdb);
    }
}
