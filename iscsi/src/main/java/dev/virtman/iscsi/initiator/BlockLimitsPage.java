package dev.virtman.iscsi.initiator;

import dev.virtman.scsi.InquiryData;
import java.nio.ByteBuffer;

/**
 * The transfer limits of the Block Limits VPD page (SBC-3 §6.5.3; layout drawn in
 * {@link InquiryData}). Zero means "not reported".
 *
 * @param maxTransferBlocks     MAXIMUM TRANSFER LENGTH in logical blocks
 * @param optimalTransferBlocks OPTIMAL TRANSFER LENGTH in logical blocks
 */
public record BlockLimitsPage(long maxTransferBlocks, long optimalTransferBlocks) {

    /** The page is 64 bytes; we need through OPTIMAL TRANSFER LENGTH. */
    public static final int MIN_LENGTH = InquiryData.BL_OPTIMAL_TRANSFER_OFFSET + Integer.BYTES;
    public static final BlockLimitsPage NOT_REPORTED = new BlockLimitsPage(0, 0);

    /** Parses the page; a short or mislabelled page counts as not reported. */
    public static BlockLimitsPage parse(final ByteBuffer page) {
        if (page.limit() < MIN_LENGTH
                || (page.get(InquiryData.VPD_PAGE_CODE_OFFSET) & 0xff) != InquiryData.PAGE_BLOCK_LIMITS) {
            return NOT_REPORTED;
        }
        return new BlockLimitsPage(Integer.toUnsignedLong(page.getInt(InquiryData.BL_MAX_TRANSFER_OFFSET)),
                Integer.toUnsignedLong(page.getInt(InquiryData.BL_OPTIMAL_TRANSFER_OFFSET)));
    }
}
