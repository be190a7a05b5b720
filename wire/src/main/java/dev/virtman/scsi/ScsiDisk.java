package dev.virtman.scsi;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.ReadOnlyDeviceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
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
 */
public final class ScsiDisk {
    private static final Logger LOG = LoggerFactory.getLogger(ScsiDisk.class);

    private static final int NACA_BIT = 2;
    /** READ CAPACITY(10) reports FFFFFFFFh when the last LBA does not fit (SBC-3 §5.15.2). */
    private static final long READ_CAPACITY_10_MAX_LBA = 0xFFFF_FFFFL;
    private static final int READ_CAPACITY_10_LENGTH = 8;
    private static final int READ_CAPACITY_10_LBA_OFFSET = 2;
    private static final int READ_CAPACITY_10_PMI_OFFSET = 8;
    /** READ CAPACITY(16) parameter data (SBC-3 §5.16.2): 32 bytes. */
    private static final int READ_CAPACITY_16_LENGTH = 32;
    private static final int SERVICE_ACTION_IN_LBA_OFFSET = 2;
    private static final int SERVICE_ACTION_IN_ALLOCATION_LENGTH_OFFSET = 10;
    /** GET LBA STATUS (SBC-3 §5.6): 8-byte header plus 16-byte descriptors. */
    private static final int LBA_STATUS_HEADER_LENGTH = 8;
    private static final int LBA_STATUS_DESCRIPTOR_LENGTH = 16;
    private static final int PROVISIONING_STATUS_MAPPED = 0;
    /** REQUEST SENSE (SPC-4 §6.39): DESC bit in byte 1, ALLOCATION LENGTH in byte 4. */
    private static final int REQUEST_SENSE_DESC_OFFSET = 1;
    private static final int REQUEST_SENSE_ALLOCATION_LENGTH_OFFSET = 4;
    private static final int DESCRIPTOR_SENSE_RESPONSE_CODE = 0x72;
    private static final int DESCRIPTOR_SENSE_HEADER_LENGTH = 8;
    /** SYNCHRONIZE CACHE and PRE-FETCH: byte 1 bit 1 is IMMED (SBC-3 §5.22, §5.12). */
    private static final int IMMED_BIT = 1;
    /** WRITE SAME byte 1 (SBC-3 §5.42): ANCHOR(4), UNMAP(3), NDOB(0, 16-byte only). */
    private static final int WRITE_SAME_ANCHOR_BIT = 4;
    private static final int WRITE_SAME_UNMAP_BIT = 3;
    private static final int WRITE_SAME_NDOB_BIT = 0;
    private static final int WRITE_SAME_CHUNK_BYTES = 1 << 20;
    /** COMPARE AND WRITE (SBC-3 §5.3): NUMBER OF LOGICAL BLOCKS is the single byte 13. */
    private static final int COMPARE_AND_WRITE_BLOCKS_OFFSET = 13;
    /** BYTCHK values (SBC-3 §5.33 table 64). */
    private static final int BYTCHK_NONE = 0;
    private static final int BYTCHK_COMPARE = 1;
    private static final int BYTCHK_SINGLE_BLOCK = 3;

    private final BlockDevice device;
    private final DiskIdentity identity;
    private final boolean writable;
    private final int blockSize;
    private final long blocks;
    private final BlockLimits limits;
    private final InquiryData inquiry;
    private final ReadWriteLock compareAndWriteLock = new ReentrantReadWriteLock();

    public ScsiDisk(final BlockDevice device, final DiskIdentity identity) {
        this.device = device;
        this.identity = identity;
        this.writable = device.isWritable() && !identity.forcedReadOnly();
        this.blockSize = device.logicalBlockSize();
        this.blocks = device.size() / blockSize;
        this.limits = BlockLimits.forBlockSize(blockSize);
        this.inquiry = new InquiryData(identity, limits);
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
            response = dispatch(cdb, command.dataOut());
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
                    case BYTCHK_COMPARE -> b.transferLength() * blockSize;
                    case BYTCHK_SINGLE_BLOCK -> b.transferLength() == 0 ? 0 : blockSize;
                    default -> -1;
                };
            }
            case WRITE_SAME_10, WRITE_SAME_16 -> {
                boolean ndob = op == ScsiOpcode.WRITE_SAME_16 && (cdb.get(1) & (1 << WRITE_SAME_NDOB_BIT)) != 0;
                yield ndob ? 0 : blockSize;
            }
            case COMPARE_AND_WRITE -> 2L * (cdb.get(COMPARE_AND_WRITE_BLOCKS_OFFSET) & 0xFF) * blockSize;
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

    private ScsiResponse dispatch(final ByteBuffer cdb, final ByteBuffer dataOut) {
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
            case READ_CAPACITY_10 -> readCapacity10(generic);
            case SERVICE_ACTION_IN_16 -> serviceActionIn(generic);
            case MODE_SENSE_6, MODE_SENSE_10 -> modeSense(new ModeSenseCdb(cdb));
            case MODE_SELECT_6, MODE_SELECT_10 -> ModeSelect.apply(generic, dataOut, writable, blocks, blockSize);
            case READ_6, READ_10, READ_12, READ_16 -> read(BlockCdb.of(cdb));
            case WRITE_6, WRITE_10, WRITE_12, WRITE_16 -> write(BlockCdb.of(cdb), dataOut);
            case WRITE_AND_VERIFY_10, WRITE_AND_VERIFY_12, WRITE_AND_VERIFY_16 ->
                    writeAndVerify(BlockCdb.of(cdb), dataOut);
            case VERIFY_10, VERIFY_12, VERIFY_16 -> verify(BlockCdb.of(cdb), dataOut);
            case SYNCHRONIZE_CACHE_10, SYNCHRONIZE_CACHE_16 -> synchronizeCache(BlockCdb.of(cdb));
            case PRE_FETCH_10, PRE_FETCH_16 -> preFetch(BlockCdb.of(cdb));
            case WRITE_SAME_10, WRITE_SAME_16 -> writeSame(BlockCdb.of(cdb), dataOut);
            case COMPARE_AND_WRITE -> compareAndWrite(new Cdb16(cdb), dataOut);
            case ORWRITE_16 -> orWrite(new Cdb16(cdb), dataOut);
            case MAINTENANCE_IN -> maintenanceIn(generic);
            default -> throw CheckConditionException.invalidOpcode();
        };
    }

    // ---- SPC-4 commands -------------------------------------------------------------------

    /** SPC-4 §6.39: with autosense nothing is ever pending, so the answer is NO SENSE. */
    private ScsiResponse requestSense(final Cdb cdb) {
        int allocation = cdb.u8(REQUEST_SENSE_ALLOCATION_LENGTH_OFFSET);
        byte[] data;
        if (cdb.bit(REQUEST_SENSE_DESC_OFFSET, 0)) {
            data = new byte[DESCRIPTOR_SENSE_HEADER_LENGTH];
            data[0] = (byte) DESCRIPTOR_SENSE_RESPONSE_CODE;
        } else {
            data = SenseData.of(SenseKey.NO_SENSE, AdditionalSense.NO_ADDITIONAL_SENSE_INFORMATION).toBytes();
        }
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

    // ---- SBC-3 capacity ---------------------------------------------------------------------

    /** SBC-3 §5.15: last LBA (FFFFFFFFh when it needs READ CAPACITY(16)) and block length. */
    private ScsiResponse readCapacity10(final Cdb cdb) {
        boolean pmi = cdb.bit(READ_CAPACITY_10_PMI_OFFSET, 0);
        if (!pmi && cdb.u32(READ_CAPACITY_10_LBA_OFFSET) != 0) {
            throw CheckConditionException.invalidFieldInCdb(READ_CAPACITY_10_LBA_OFFSET, -1);
        }
        byte[] data = new byte[READ_CAPACITY_10_LENGTH];
        long last = blocks - 1;
        InquiryData.putU32(data, 0, last >= READ_CAPACITY_10_MAX_LBA ? READ_CAPACITY_10_MAX_LBA : last);
        InquiryData.putU32(data, 4, blockSize);
        return ScsiResponses.dataIn(data, data.length);
    }

    private ScsiResponse serviceActionIn(final Cdb cdb) {
        long allocation = cdb.u32(SERVICE_ACTION_IN_ALLOCATION_LENGTH_OFFSET);
        return switch (cdb.serviceAction()) {
            case ScsiOpcode.SA_READ_CAPACITY_16 -> {
                // SBC-3 §5.16.2: no protection (PROT_EN 0), one logical block per physical block,
                // LBPME 0 (fully provisioned), lowest aligned LBA 0.
                byte[] data = new byte[READ_CAPACITY_16_LENGTH];
                ByteBuffer.wrap(data).putLong(0, blocks - 1).putInt(Long.BYTES, blockSize);
                yield ScsiResponses.dataIn(data, allocation);
            }
            case ScsiOpcode.SA_GET_LBA_STATUS -> getLbaStatus(cdb, allocation);
            default -> throw CheckConditionException.invalidFieldInCdb(1, 4);
        };
    }

    /** SBC-3 §5.6: every block of a fully provisioned unit is mapped; one descriptor says so. */
    private ScsiResponse getLbaStatus(final Cdb cdb, final long allocation) {
        long lba = cdb.u64(SERVICE_ACTION_IN_LBA_OFFSET);
        if (Long.compareUnsigned(lba, blocks) >= 0) {
            throw CheckConditionException.lbaOutOfRange();
        }
        byte[] data = new byte[LBA_STATUS_HEADER_LENGTH + LBA_STATUS_DESCRIPTOR_LENGTH];
        long remaining = blocks - lba;
        ByteBuffer b = ByteBuffer.wrap(data);
        b.putInt(0, data.length - 4);
        b.putLong(LBA_STATUS_HEADER_LENGTH, lba);
        b.putInt(LBA_STATUS_HEADER_LENGTH + Long.BYTES, (int) Math.min(remaining, READ_CAPACITY_10_MAX_LBA));
        data[LBA_STATUS_HEADER_LENGTH + Long.BYTES + Integer.BYTES] = PROVISIONING_STATUS_MAPPED;
        return ScsiResponses.dataIn(data, allocation);
    }

    // ---- SBC-3 data transfer ------------------------------------------------------------------

    /** READ(6/10/12/16), SBC-3 §5.8-§5.11. */
    private ScsiResponse read(final BlockCdb cdb) {
        rejectProtection(cdb);
        long lba = cdb.lba();
        long count = cdb.transferLength();
        checkRange(lba, count);
        if (count == 0) {
            return ScsiResponses.good();
        }
        checkTransferLength(cdb, count);
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(count * blockSize));
        readBlocks(lba, data);
        return ScsiResponses.dataIn(data.flip());
    }

    /**
     * WRITE(6/10/12/16), SBC-3 §5.24-§5.28; FUA is honoured with a flush. The range is checked
     * before write protection, so a write-protected unit still reports LBA OUT OF RANGE for a
     * range it does not have, and a zero-length write (which writes nothing) is GOOD.
     */
    private ScsiResponse write(final BlockCdb cdb, final ByteBuffer dataOut) {
        rejectProtection(cdb);
        long lba = cdb.lba();
        long count = cdb.transferLength();
        // count may shrink below: see the Expected Data Transfer Length rule.
        checkRange(lba, count);
        if (count == 0) {
            return ScsiResponses.good();
        }
        requireWritable();
        checkTransferLength(cdb, count);
        long supplied = dataOut == null ? 0 : dataOut.remaining();
        if (supplied < count * blockSize) {
            // RFC 7143 §11.4.5.1 with FCP-4 §9.4.2 a): an Expected Data Transfer Length below
            // the CDB's transfer length means "process the command normally except that data
            // beyond it is not transferred": we write the whole blocks that arrived (the
            // transport reports the overflow residual). Half a block cannot be written.
            if (supplied % blockSize != 0) {
                throw CheckConditionException.illegalRequest(AdditionalSense.INVALID_FIELD_IN_INFORMATION_UNIT);
            }
            count = supplied / blockSize;
            if (count == 0) {
                return ScsiResponses.good();
            }
        }
        ByteBuffer data = dataOutBlocks(dataOut, count);
        compareAndWriteLock.readLock().lock();
        try {
            writeBlocks(lba, data);
        } finally {
            compareAndWriteLock.readLock().unlock();
        }
        return written(cdb);
    }

    /**
     * WRITE AND VERIFY (SBC-3 §5.29-§5.31). The data has just gone through the same device, so
     * the verification (BYTCHK 0: medium check; 1: compare with the data just written) cannot
     * fail short of an I/O error, which the write already reports.
     */
    private ScsiResponse writeAndVerify(final BlockCdb cdb, final ByteBuffer dataOut) {
        int bytchk = cdb.bytchk();
        if (bytchk != BYTCHK_NONE && bytchk != BYTCHK_COMPARE) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, BlockCdb.BYTCHK_SHIFT + 1);
        }
        return write(cdb, dataOut);
    }

    /**
     * VERIFY (SBC-3 §5.33-§5.35). BYTCHK 0 checks the range only: the medium is a file with no
     * separate error-detection we could exercise. BYTCHK 1 compares the data-out with the medium,
     * BYTCHK 3 compares one data-out block with every block in the range.
     */
    private ScsiResponse verify(final BlockCdb cdb, final ByteBuffer dataOut) {
        rejectProtection(cdb);
        int bytchk = cdb.bytchk();
        if (bytchk != BYTCHK_NONE && bytchk != BYTCHK_COMPARE && bytchk != BYTCHK_SINGLE_BLOCK) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, BlockCdb.BYTCHK_SHIFT + 1);
        }
        long lba = cdb.lba();
        long count = cdb.transferLength();
        checkRange(lba, count);
        if (count == 0 || bytchk == BYTCHK_NONE) {
            return ScsiResponses.good();
        }
        checkTransferLength(cdb, count);
        ByteBuffer expected = dataOutBlocks(dataOut, bytchk == BYTCHK_SINGLE_BLOCK ? 1 : count);
        ByteBuffer actual = ByteBuffer.allocate(Math.toIntExact(count * blockSize));
        readBlocks(lba, actual);
        actual.flip();
        for (int i = 0; i < actual.limit(); i++) {
            int j = bytchk == BYTCHK_SINGLE_BLOCK ? i % blockSize : i;
            if (actual.get(i) != expected.get(j)) {
                throw new CheckConditionException(SenseData.of(SenseKey.MISCOMPARE,
                        AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION).withInformation(i));
            }
        }
        return ScsiResponses.good();
    }

    /** SYNCHRONIZE CACHE(10/16), SBC-3 §5.22-§5.23: a range of 0 blocks means "to the end". */
    private ScsiResponse synchronizeCache(final BlockCdb cdb) {
        checkRange(cdb.lba(), cdb.transferLength());
        flush();
        return ScsiResponses.good();
    }

    /**
     * PRE-FETCH(10/16), SBC-3 §5.12-§5.13. Reads go straight to the device, there is no cache
     * of ours to load, so we check the range and report GOOD (the cache could not hold all of it),
     * which SBC-3 allows for a device server without such a cache.
     */
    private ScsiResponse preFetch(final BlockCdb cdb) {
        checkRange(cdb.lba(), cdb.transferLength());
        return ScsiResponses.good();
    }

    /**
     * WRITE SAME(10/16), SBC-3 §5.42-§5.43: one block of data-out (or zeros with NDOB) written to
     * every block of the range, in bounded chunks. We advertise WSNZ = 1, so 0 blocks is refused;
     * UNMAP and ANCHOR need logical block provisioning, which we do not advertise.
     */
    private ScsiResponse writeSame(final BlockCdb cdb, final ByteBuffer dataOut) {
        rejectProtection(cdb);
        Cdb c = cdb.cdb();
        boolean ndob = c.length() == Cdb16.LENGTH && c.bit(BlockCdb.FLAGS_OFFSET, WRITE_SAME_NDOB_BIT);
        long lba = cdb.lba();
        long count = cdb.transferLength();
        if (count == 0 || count > limits.maxWriteSameBlocks()) {
            checkRange(lba, count);
            throw CheckConditionException.invalidFieldInCdb(cdb.transferLengthOffset(), -1);
        }
        checkRange(lba, count);
        // A write-protected unit refuses WRITE SAME whether or not it would unmap (SBC-3 §4.11),
        // so protection is checked before the provisioning bits we do not support.
        requireWritable();
        if (c.bit(BlockCdb.FLAGS_OFFSET, WRITE_SAME_ANCHOR_BIT)) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, WRITE_SAME_ANCHOR_BIT);
        }
        if (c.bit(BlockCdb.FLAGS_OFFSET, WRITE_SAME_UNMAP_BIT)) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, WRITE_SAME_UNMAP_BIT);
        }
        ByteBuffer pattern = ndob ? ByteBuffer.allocate(blockSize) : dataOutBlocks(dataOut, 1);
        long chunkBlocks = Math.min(count, WRITE_SAME_CHUNK_BYTES / blockSize);
        ByteBuffer chunk = ByteBuffer.allocate(Math.toIntExact(chunkBlocks * blockSize));
        while (chunk.hasRemaining()) {
            chunk.put(pattern.duplicate());
        }
        compareAndWriteLock.readLock().lock();
        try {
            for (long done = 0; done < count; done += chunkBlocks) {
                long n = Math.min(chunkBlocks, count - done);
                writeBlocks(lba + done, chunk.duplicate().position(0).limit(Math.toIntExact(n * blockSize)));
            }
        } finally {
            compareAndWriteLock.readLock().unlock();
        }
        return ScsiResponses.good();
    }

    /**
     * COMPARE AND WRITE, SBC-3 §5.3: the data-out holds the verify data then the write data; the
     * write happens only if the medium equals the verify data, atomically with respect to every
     * other write. On a miscompare the INFORMATION field is the offset of the first differing byte.
     */
    private ScsiResponse compareAndWrite(final Cdb16 cdb, final ByteBuffer dataOut) {
        rejectProtection(cdb);
        long lba = cdb.lba();
        int count = cdb.u8(COMPARE_AND_WRITE_BLOCKS_OFFSET);
        checkRange(lba, count);
        requireWritable();
        // SBC-3 §5.3: the data-out is exactly verify + write data. An initiator that sends any
        // other amount (e.g. 256 blocks' worth with NUMBER OF LOGICAL BLOCKS wrapped to 0) has a
        // CDB that does not describe its data: INVALID FIELD IN CDB at that field.
        long supplied = dataOut == null ? 0 : dataOut.remaining();
        if (supplied != 2L * count * blockSize) {
            throw CheckConditionException.invalidFieldInCdb(COMPARE_AND_WRITE_BLOCKS_OFFSET, -1);
        }
        if (count == 0) {
            return ScsiResponses.good();
        }
        if (count > limits.maxCompareAndWriteBlocks()) {
            throw CheckConditionException.invalidFieldInCdb(COMPARE_AND_WRITE_BLOCKS_OFFSET, -1);
        }
        ByteBuffer both = dataOutBlocks(dataOut, 2L * count);
        int half = count * blockSize;
        ByteBuffer verify = both.duplicate().limit(half).slice();
        ByteBuffer data = both.duplicate().position(half).slice();
        ByteBuffer actual = ByteBuffer.allocate(half);
        compareAndWriteLock.writeLock().lock();
        try {
            readBlocks(lba, actual);
            actual.flip();
            int mismatch = actual.mismatch(verify);
            if (mismatch >= 0) {
                throw new CheckConditionException(SenseData.of(SenseKey.MISCOMPARE,
                        AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION).withInformation(mismatch));
            }
            writeBlocks(lba, data);
        } finally {
            compareAndWriteLock.writeLock().unlock();
        }
        return written(cdb);
    }

    /**
     * ORWRITE(16), SBC-3 §5.7: the medium becomes medium OR data-out. The read-modify-write holds
     * the exclusive side of the lock, like COMPARE AND WRITE, so no other write interleaves.
     */
    private ScsiResponse orWrite(final Cdb16 cdb, final ByteBuffer dataOut) {
        rejectProtection(cdb);
        long lba = cdb.lba();
        long count = cdb.transferLength();
        checkRange(lba, count);
        if (count == 0) {
            return ScsiResponses.good();
        }
        requireWritable();
        checkTransferLength(cdb, count);
        ByteBuffer data = dataOutBlocks(dataOut, count);
        ByteBuffer medium = ByteBuffer.allocate(data.remaining());
        compareAndWriteLock.writeLock().lock();
        try {
            readBlocks(lba, medium);
            for (int i = 0; i < medium.capacity(); i++) {
                medium.put(i, (byte) (medium.get(i) | data.get(i)));
            }
            writeBlocks(lba, medium.flip());
        } finally {
            compareAndWriteLock.writeLock().unlock();
        }
        return written(cdb);
    }

    // ---- checks and device access -----------------------------------------------------------------

    /** SBC-3 §4.22: RDPROTECT/WRPROTECT/VRPROTECT ≠ 0 needs protection information we do not keep. */
    private static void rejectProtection(final BlockCdb cdb) {
        if (cdb.protect() != 0) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, 7);
        }
    }

    private void requireWritable() {
        if (!writable) {
            throw CheckConditionException.writeProtected();
        }
    }

    /**
     * SBC-3 §4.5: LBA + count must not pass the capacity; compared without overflow, with the
     * LBA unsigned (a 16-byte CDB's LBA can be 2^64 - 1).
     */
    private void checkRange(final long lba, final long count) {
        if (Long.compareUnsigned(lba, blocks) > 0 || count > blocks - lba) {
            throw CheckConditionException.lbaOutOfRange();
        }
    }

    /** SBC-3 §6.5.3: more than MAXIMUM TRANSFER LENGTH is an INVALID FIELD IN CDB. */
    private void checkTransferLength(final BlockCdb cdb, final long count) {
        if (count > limits.maxTransferBlocks()) {
            throw CheckConditionException.invalidFieldInCdb(cdb.transferLengthOffset(), -1);
        }
    }

    /**
     * The first {@code count} blocks of the data-out buffer. Fewer bytes than the CDB implies
     * (the initiator's Expected Data Transfer Length was short) ends the command without touching
     * the medium (FCP-4 §9.4.2 / RFC 7143 §11.4.5.2 semantics: INVALID FIELD IN INFORMATION UNIT).
     */
    private ByteBuffer dataOutBlocks(final ByteBuffer dataOut, final long count) {
        long needed = count * blockSize;
        if (dataOut == null || dataOut.remaining() < needed) {
            throw CheckConditionException.illegalRequest(AdditionalSense.INVALID_FIELD_IN_INFORMATION_UNIT);
        }
        ByteBuffer d = dataOut.duplicate();
        return d.limit(d.position() + (int) needed).slice();
    }

    /** A write completed: FUA makes it durable before GOOD (SBC-3 §5.38). */
    private ScsiResponse written(final BlockCdb cdb) {
        if (cdb.fua()) {
            flush();
        }
        return ScsiResponses.good();
    }

    private void readBlocks(final long lba, final ByteBuffer dst) {
        try {
            device.read(lba * blockSize, dst);
        } catch (IOException e) {
            LOG.warn("read of {} bytes at LBA {} failed: {}", dst.capacity(), lba, e.toString());
            throw new CheckConditionException(SenseData.of(SenseKey.MEDIUM_ERROR,
                    AdditionalSense.UNRECOVERED_READ_ERROR).withInformation(lba));
        }
    }

    private void writeBlocks(final long lba, final ByteBuffer src) {
        try {
            device.write(lba * blockSize, src);
        } catch (ReadOnlyDeviceException e) {
            throw CheckConditionException.writeProtected();
        } catch (IOException e) {
            LOG.warn("write at LBA {} failed: {}", lba, e.toString());
            throw new CheckConditionException(SenseData.of(SenseKey.MEDIUM_ERROR,
                    AdditionalSense.WRITE_ERROR).withInformation(lba));
        }
    }

    private void flush() {
        try {
            device.flush();
        } catch (IOException e) {
            LOG.warn("flush failed: {}", e.toString());
            throw new CheckConditionException(SenseData.of(SenseKey.MEDIUM_ERROR, AdditionalSense.WRITE_ERROR));
        }
    }
}
