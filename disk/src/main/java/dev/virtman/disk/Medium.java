package dev.virtman.disk;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.ReadOnlyDeviceException;
import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.BlockCdb;
import dev.virtman.scsi.BlockLimits;
import dev.virtman.scsi.CheckConditionException;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiResponses;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The medium of one {@link ScsiDisk}: its {@link BlockDevice} in logical blocks, the SBC-3 checks
 * every data-transfer command makes (range, transfer length, write protection, protection
 * information, data-out length), and device errors turned into CHECK CONDITION sense. The
 * read-write lock makes COMPARE AND WRITE and ORWRITE atomic: they hold its write side, every
 * other write the read side.
 */
final class Medium {
    private static final Logger LOG = LoggerFactory.getLogger(Medium.class);

    final BlockDevice device;
    final boolean writable;
    final int blockSize;
    final long blocks;
    final BlockLimits limits;
    final ReadWriteLock compareAndWriteLock = new ReentrantReadWriteLock();

    Medium(final BlockDevice device, final boolean writable, final BlockLimits limits) {
        this.device = device;
        this.writable = writable;
        this.blockSize = device.logicalBlockSize();
        this.blocks = device.size() / blockSize;
        this.limits = limits;
    }

    /** SBC-3 §4.22: RDPROTECT/WRPROTECT/VRPROTECT ≠ 0 needs protection information we do not keep. */
    static void rejectProtection(final BlockCdb cdb) {
        if (cdb.protect() != 0) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, 7);
        }
    }

    void requireWritable() {
        if (!writable) {
            throw CheckConditionException.writeProtected();
        }
    }

    /**
     * SBC-3 §4.5: LBA + count must not pass the capacity; compared without overflow, with the
     * LBA unsigned (a 16-byte CDB's LBA can be 2^64 - 1).
     */
    void checkRange(final long lba, final long count) {
        if (Long.compareUnsigned(lba, blocks) > 0 || count > blocks - lba) {
            throw CheckConditionException.lbaOutOfRange();
        }
    }

    /** SBC-3 §6.5.3: more than MAXIMUM TRANSFER LENGTH is an INVALID FIELD IN CDB. */
    /**
     * The checks a write makes before it touches data, in SBC-3's order: the protection field,
     * the range (so a write-protected unit still reports LBA OUT OF RANGE for a range it does not
     * have), then, unless the transfer is empty (GOOD, nothing written), write protection and
     * the transfer length. Returns whether there is anything to write.
     */
    boolean admitWrite(final BlockCdb cdb) {
        rejectProtection(cdb);
        long count = cdb.transferLength();
        checkRange(cdb.lba(), count);
        if (count == 0) {
            return false;
        }
        requireWritable();
        checkTransferLength(cdb, count);
        return true;
    }

    void checkTransferLength(final BlockCdb cdb, final long count) {
        if (count > limits.maxTransferBlocks()) {
            throw CheckConditionException.invalidFieldInCdb(cdb.transferLengthOffset(), -1);
        }
    }

    /**
     * The first {@code count} blocks of the data-out buffer. Fewer bytes than the CDB implies
     * (the initiator's Expected Data Transfer Length was short) ends the command without touching
     * the medium (FCP-4 §9.4.2 / RFC 7143 §11.4.5.2 semantics: INVALID FIELD IN INFORMATION UNIT).
     */
    ByteBuffer dataOutBlocks(final ByteBuffer dataOut, final long count) {
        long needed = count * blockSize;
        if (dataOut == null || dataOut.remaining() < needed) {
            throw CheckConditionException.illegalRequest(AdditionalSense.INVALID_FIELD_IN_INFORMATION_UNIT);
        }
        ByteBuffer d = dataOut.duplicate();
        return d.limit(d.position() + (int) needed).slice();
    }

    /** A write completed: FUA makes it durable before GOOD (SBC-3 §5.38). */
    ScsiResponse written(final BlockCdb cdb) {
        if (cdb.fua()) {
            flush();
        }
        return ScsiResponses.good();
    }

    void readBlocks(final long lba, final ByteBuffer dst) {
        try {
            device.read(lba * blockSize, dst);
        } catch (IOException e) {
            LOG.warn("read of {} bytes at LBA {} failed: {}", dst.capacity(), lba, e.toString());
            throw new CheckConditionException(SenseData.of(SenseKey.MEDIUM_ERROR,
                    AdditionalSense.UNRECOVERED_READ_ERROR).withInformation(lba));
        }
    }

    void writeBlocks(final long lba, final ByteBuffer src) {
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

    void flush() {
        try {
            device.flush();
        } catch (IOException e) {
            LOG.warn("flush failed: {}", e.toString());
            throw new CheckConditionException(SenseData.of(SenseKey.MEDIUM_ERROR, AdditionalSense.WRITE_ERROR));
        }
    }
}
