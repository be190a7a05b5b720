package dev.virtman.scsi;

/**
 * The limits a SCSI disk (the disk module's {@code ScsiDisk}) advertises in the Block Limits VPD
 * page (SBC-3 §6.5.3) and enforces.
 * They bound the memory one command can make us allocate: a READ larger than
 * {@code maxTransferBlocks} is rejected before any buffer exists.
 *
 * @param maxTransferBlocks          MAXIMUM TRANSFER LENGTH
 * @param optimalTransferBlocks      OPTIMAL TRANSFER LENGTH
 * @param optimalGranularityBlocks   OPTIMAL TRANSFER LENGTH GRANULARITY
 * @param maxCompareAndWriteBlocks   MAXIMUM COMPARE AND WRITE LENGTH (at most 255)
 * @param maxWriteSameBlocks         MAXIMUM WRITE SAME LENGTH
 */
public record BlockLimits(int maxTransferBlocks, int optimalTransferBlocks, int optimalGranularityBlocks,
                          int maxCompareAndWriteBlocks, long maxWriteSameBlocks) {

    /** Largest single data-in or data-out buffer per command: 4 MiB. */
    public static final int MAX_TRANSFER_BYTES = 4 << 20;
    /** A typical filesystem / page-cache friendly unit: 64 KiB. */
    public static final int OPTIMAL_TRANSFER_BYTES = 64 << 10;
    public static final int GRANULARITY_BYTES = 4 << 10;
    public static final int MAX_COMPARE_AND_WRITE_BLOCKS = 255;
    /** WRITE SAME loops over a bounded buffer, so its limit is about time, not memory: 1 GiB. */
    public static final long MAX_WRITE_SAME_BYTES = 1L << 30;

    /** The limits for a device with {@code blockSize}-byte logical blocks. */
    public static BlockLimits forBlockSize(final int blockSize) {
        return new BlockLimits(MAX_TRANSFER_BYTES / blockSize,
                Math.max(1, OPTIMAL_TRANSFER_BYTES / blockSize),
                Math.max(1, GRANULARITY_BYTES / blockSize),
                Math.min(MAX_COMPARE_AND_WRITE_BLOCKS, MAX_TRANSFER_BYTES / blockSize),
                MAX_WRITE_SAME_BYTES / blockSize);
    }
}
