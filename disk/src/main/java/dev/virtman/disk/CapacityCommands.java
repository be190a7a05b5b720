package dev.virtman.disk;

import dev.virtman.scsi.Cdb;
import dev.virtman.scsi.CheckConditionException;
import dev.virtman.scsi.ScsiOpcode;
import dev.virtman.scsi.ScsiResponse;
import dev.virtman.scsi.ScsiResponses;
import java.nio.ByteBuffer;

/**
 * The SBC-3 capacity commands of a {@link ScsiDisk}: READ CAPACITY(10), and READ CAPACITY(16)
 * and GET LBA STATUS under SERVICE ACTION IN(16). A fully provisioned unit without protection
 * information: every block is mapped.
 */
final class CapacityCommands {
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

    private final long blocks;
    private final int blockSize;

    CapacityCommands(final long blocks, final int blockSize) {
        this.blocks = blocks;
        this.blockSize = blockSize;
    }

    /** SBC-3 §5.15: last LBA (FFFFFFFFh when it needs READ CAPACITY(16)) and block length. */
    ScsiResponse readCapacity10(final Cdb cdb) {
        boolean pmi = cdb.bit(READ_CAPACITY_10_PMI_OFFSET, 0);
        if (!pmi && cdb.u32(READ_CAPACITY_10_LBA_OFFSET) != 0) {
            throw CheckConditionException.invalidFieldInCdb(READ_CAPACITY_10_LBA_OFFSET, -1);
        }
        byte[] data = new byte[READ_CAPACITY_10_LENGTH];
        long last = blocks - 1;
        ByteBuffer.wrap(data).putInt(0, (int) Math.min(last, READ_CAPACITY_10_MAX_LBA)).putInt(Integer.BYTES, blockSize);
        return ScsiResponses.dataIn(data, data.length);
    }

    ScsiResponse serviceActionIn(final Cdb cdb) {
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
}
