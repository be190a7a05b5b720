package dev.virtman.disk;

import dev.virtman.scsi.AdditionalSense;
import dev.virtman.scsi.BlockCdb;
import dev.virtman.scsi.BlockLimits;
import dev.virtman.scsi.Cdb16;
import dev.virtman.scsi.Cdb;
import dev.virtman.scsi.CheckConditionException;
import dev.virtman.scsi.DataInBuffers;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiResponses;
import dev.virtman.scsi.SenseData;
import dev.virtman.scsi.SenseKey;
import java.nio.ByteBuffer;

/**
 * The SBC-3 data-transfer commands of a {@link ScsiDisk}: READ, WRITE, WRITE AND VERIFY, VERIFY,
 * SYNCHRONIZE CACHE, PRE-FETCH, WRITE SAME, COMPARE AND WRITE and ORWRITE, each checking its CDB
 * against the {@link Medium} before touching it.
 */
final class BlockCommands {
    /** WRITE SAME byte 1 (SBC-3 §5.42): ANCHOR(4), UNMAP(3), NDOB(0, 16-byte only). */
    private static final int WRITE_SAME_ANCHOR_BIT = 4;
    private static final int WRITE_SAME_UNMAP_BIT = 3;
    static final int WRITE_SAME_NDOB_BIT = 0;
    private static final int WRITE_SAME_CHUNK_BYTES = 1 << 20;
    /** COMPARE AND WRITE (SBC-3 §5.3): NUMBER OF LOGICAL BLOCKS is the single byte 13. */
    static final int COMPARE_AND_WRITE_BLOCKS_OFFSET = 13;
    /** BYTCHK values (SBC-3 §5.33 table 64). */
    static final int BYTCHK_NONE = 0;
    static final int BYTCHK_COMPARE = 1;
    static final int BYTCHK_SINGLE_BLOCK = 3;

    private final Medium m;
    private final int blockSize;
    private final BlockLimits limits;

    BlockCommands(final Medium medium) {
        this.m = medium;
        this.blockSize = medium.blockSize;
        this.limits = medium.limits;
    }

    /** READ(6/10/12/16), SBC-3 §5.8-§5.11; the data goes into a buffer from {@code buffers}. */
    ScsiResponse read(final BlockCdb cdb, final DataInBuffers buffers) {
        Medium.rejectProtection(cdb);
        long lba = cdb.lba();
        long count = cdb.transferLength();
        m.checkRange(lba, count);
        if (count == 0) {
            return ScsiResponses.good();
        }
        m.checkTransferLength(cdb, count);
        ByteBuffer data = buffers.allocate(Math.toIntExact(count * blockSize));
        m.readBlocks(lba, data);
        return ScsiResponses.dataIn(data.flip());
    }

    /**
     * WRITE(6/10/12/16), SBC-3 §5.24-§5.28; FUA is honoured with a flush. The range is checked
     * before write protection, so a write-protected unit still reports LBA OUT OF RANGE for a
     * range it does not have, and a zero-length write (which writes nothing) is GOOD.
     */
    ScsiResponse write(final BlockCdb cdb, final ByteBuffer dataOut) {
        if (!m.admitWrite(cdb)) {
            return ScsiResponses.good();
        }
        long lba = cdb.lba();
        long count = cdb.transferLength(); // may shrink below: see the Expected Data Transfer Length rule
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
        ByteBuffer data = m.dataOutBlocks(dataOut, count);
        m.compareAndWriteLock.readLock().lock();
        try {
            m.writeBlocks(lba, data);
        } finally {
            m.compareAndWriteLock.readLock().unlock();
        }
        return m.written(cdb);
    }

    /**
     * WRITE AND VERIFY (SBC-3 §5.29-§5.31). The data has just gone through the same device, so
     * the verification (BYTCHK 0: medium check; 1: compare with the data just written) cannot
     * fail short of an I/O error, which the write already reports.
     */
    ScsiResponse writeAndVerify(final BlockCdb cdb, final ByteBuffer dataOut) {
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
    ScsiResponse verify(final BlockCdb cdb, final ByteBuffer dataOut) {
        Medium.rejectProtection(cdb);
        int bytchk = cdb.bytchk();
        if (bytchk != BYTCHK_NONE && bytchk != BYTCHK_COMPARE && bytchk != BYTCHK_SINGLE_BLOCK) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, BlockCdb.BYTCHK_SHIFT + 1);
        }
        long lba = cdb.lba();
        long count = cdb.transferLength();
        m.checkRange(lba, count);
        if (count == 0 || bytchk == BYTCHK_NONE) {
            return ScsiResponses.good();
        }
        m.checkTransferLength(cdb, count);
        ByteBuffer expected = m.dataOutBlocks(dataOut, bytchk == BYTCHK_SINGLE_BLOCK ? 1 : count);
        ByteBuffer actual = ByteBuffer.allocate(Math.toIntExact(count * blockSize));
        m.readBlocks(lba, actual);
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
    ScsiResponse synchronizeCache(final BlockCdb cdb) {
        m.checkRange(cdb.lba(), cdb.transferLength());
        m.flush();
        return ScsiResponses.good();
    }

    /**
     * PRE-FETCH(10/16), SBC-3 §5.12-§5.13. Reads go straight to the device, there is no cache
     * of ours to load, so we check the range and report GOOD (the cache could not hold all of it),
     * which SBC-3 allows for a device server without such a cache.
     */
    ScsiResponse preFetch(final BlockCdb cdb) {
        m.checkRange(cdb.lba(), cdb.transferLength());
        return ScsiResponses.good();
    }

    /**
     * WRITE SAME(10/16), SBC-3 §5.42-§5.43: one block of data-out (or zeros with NDOB) written to
     * every block of the range, in bounded chunks. We advertise WSNZ = 1, so 0 blocks is refused;
     * UNMAP and ANCHOR need logical block provisioning, which we do not advertise.
     */
    ScsiResponse writeSame(final BlockCdb cdb, final ByteBuffer dataOut) {
        Medium.rejectProtection(cdb);
        Cdb c = cdb.cdb();
        boolean ndob = c.length() == Cdb16.LENGTH && c.bit(BlockCdb.FLAGS_OFFSET, WRITE_SAME_NDOB_BIT);
        long lba = cdb.lba();
        long count = cdb.transferLength();
        if (count == 0 || count > limits.maxWriteSameBlocks()) {
            m.checkRange(lba, count);
            throw CheckConditionException.invalidFieldInCdb(cdb.transferLengthOffset(), -1);
        }
        m.checkRange(lba, count);
        // A write-protected unit refuses WRITE SAME whether or not it would unmap (SBC-3 §4.11),
        // so protection is checked before the provisioning bits we do not support.
        m.requireWritable();
        if (c.bit(BlockCdb.FLAGS_OFFSET, WRITE_SAME_ANCHOR_BIT)) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, WRITE_SAME_ANCHOR_BIT);
        }
        if (c.bit(BlockCdb.FLAGS_OFFSET, WRITE_SAME_UNMAP_BIT)) {
            throw CheckConditionException.invalidFieldInCdb(BlockCdb.FLAGS_OFFSET, WRITE_SAME_UNMAP_BIT);
        }
        ByteBuffer pattern = ndob ? ByteBuffer.allocate(blockSize) : m.dataOutBlocks(dataOut, 1);
        long chunkBlocks = Math.min(count, WRITE_SAME_CHUNK_BYTES / blockSize);
        ByteBuffer chunk = ByteBuffer.allocate(Math.toIntExact(chunkBlocks * blockSize));
        while (chunk.hasRemaining()) {
            chunk.put(pattern.duplicate());
        }
        m.compareAndWriteLock.readLock().lock();
        try {
            for (long done = 0; done < count; done += chunkBlocks) {
                long n = Math.min(chunkBlocks, count - done);
                m.writeBlocks(lba + done, chunk.duplicate().position(0).limit(Math.toIntExact(n * blockSize)));
            }
        } finally {
            m.compareAndWriteLock.readLock().unlock();
        }
        return ScsiResponses.good();
    }

    /**
     * COMPARE AND WRITE, SBC-3 §5.3: the data-out holds the verify data then the write data; the
     * write happens only if the medium equals the verify data, atomically with respect to every
     * other write. On a miscompare the INFORMATION field is the offset of the first differing byte.
     */
    ScsiResponse compareAndWrite(final Cdb16 cdb, final ByteBuffer dataOut) {
        Medium.rejectProtection(cdb);
        long lba = cdb.lba();
        int count = cdb.u8(COMPARE_AND_WRITE_BLOCKS_OFFSET);
        m.checkRange(lba, count);
        m.requireWritable();
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
        ByteBuffer both = m.dataOutBlocks(dataOut, 2L * count);
        int half = count * blockSize;
        ByteBuffer verify = both.duplicate().limit(half).slice();
        ByteBuffer data = both.duplicate().position(half).slice();
        ByteBuffer actual = ByteBuffer.allocate(half);
        m.compareAndWriteLock.writeLock().lock();
        try {
            m.readBlocks(lba, actual);
            actual.flip();
            int mismatch = actual.mismatch(verify);
            if (mismatch >= 0) {
                throw new CheckConditionException(SenseData.of(SenseKey.MISCOMPARE,
                        AdditionalSense.MISCOMPARE_DURING_VERIFY_OPERATION).withInformation(mismatch));
            }
            m.writeBlocks(lba, data);
        } finally {
            m.compareAndWriteLock.writeLock().unlock();
        }
        return m.written(cdb);
    }

    /**
     * ORWRITE(16), SBC-3 §5.7: the medium becomes medium OR data-out. The read-modify-write holds
     * the exclusive side of the lock, like COMPARE AND WRITE, so no other write interleaves.
     */
    ScsiResponse orWrite(final Cdb16 cdb, final ByteBuffer dataOut) {
        if (!m.admitWrite(cdb)) {
            return ScsiResponses.good();
        }
        long lba = cdb.lba();
        long count = cdb.transferLength();
        ByteBuffer data = m.dataOutBlocks(dataOut, count);
        ByteBuffer medium = ByteBuffer.allocate(data.remaining());
        m.compareAndWriteLock.writeLock().lock();
        try {
            m.readBlocks(lba, medium);
            for (int i = 0; i < medium.capacity(); i++) {
                medium.put(i, (byte) (medium.get(i) | data.get(i)));
            }
            m.writeBlocks(lba, medium.flip());
        } finally {
            m.compareAndWriteLock.writeLock().unlock();
        }
        return m.written(cdb);
    }
}
