package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * MODE SELECT(6)/(10) (SPC-4 §6.9, §6.10) for a unit whose mode pages are not changeable: the
 * parameter list may restate the current values (a no-op, GOOD) but any change is an INVALID
 * FIELD IN PARAMETER LIST pointing at the first differing byte.
 *
 * <pre>
 * MODE SELECT(6)                              MODE SELECT(10)
 *  Byte 0   OPERATION CODE (15h)               Byte 0    OPERATION CODE (55h)
 *       1   Reserved | PF(4) | Rsvd | SP(0)         1    Reserved | PF(4) | Rsvd | SP(0)
 *       2-3 Reserved                                2-6  Reserved
 *       4   PARAMETER LIST LENGTH                   7-8  PARAMETER LIST LENGTH
 *       5   CONTROL                                 9    CONTROL
 * </pre>
 * The parameter list is a mode parameter header, block descriptors, then pages; see {@link ModePages}.
 */
public final class ModeSelect {
    public static final int FLAGS_OFFSET = 1;
    public static final int PF_BIT = 4;
    public static final int SP_BIT = 0;
    public static final int PARAMETER_LIST_LENGTH_OFFSET_6 = 4;
    public static final int PARAMETER_LIST_LENGTH_OFFSET_10 = 7;
    private static final int PAGE_CODE_MASK = 0x3F;
    private static final int SPF_BIT = 0x40;
    private static final int PAGE_HEADER_LENGTH = 2;
    private static final int BLOCK_LENGTH_OFFSET_SHORT = 5;
    private static final int BLOCK_LENGTH_OFFSET_LONG = 12;

    private ModeSelect() {
    }

    /** Validates the command and its parameter list; returns GOOD or throws CHECK CONDITION. */
    public static ScsiResponse apply(final Cdb cdb, final ByteBuffer dataOut, final boolean writable,
                                     final long blocks, final int blockSize) {
        boolean ten = cdb.length() == Cdb10.LENGTH;
        if (cdb.bit(FLAGS_OFFSET, SP_BIT)) {
            throw CheckConditionException.invalidFieldInCdb(FLAGS_OFFSET, SP_BIT);
        }
        int length = ten ? cdb.u16(PARAMETER_LIST_LENGTH_OFFSET_10) : cdb.u8(PARAMETER_LIST_LENGTH_OFFSET_6);
        if (length == 0) {
            return ScsiResponses.good();
        }
        if (!cdb.bit(FLAGS_OFFSET, PF_BIT)) {
            // PF = 0: vendor-specific page format, which we have none of.
            throw CheckConditionException.invalidFieldInCdb(FLAGS_OFFSET, PF_BIT);
        }
        int headerLength = ten ? ModePages.HEADER10_LENGTH : ModePages.HEADER6_LENGTH;
        if (dataOut == null || dataOut.remaining() < length || length < headerLength) {
            throw CheckConditionException.illegalRequest(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        ByteBuffer p = dataOut.duplicate().position(dataOut.position());
        p = p.limit(p.position() + length).slice();
        int descriptorsLength = ten ? p.getShort(6) & 0xFFFF : p.get(3) & 0xFF;
        boolean longLba = ten && (p.get(4) & ModePages.HEADER10_LONGLBA) != 0;
        int descriptorLength = longLba ? ModePages.LONG_DESCRIPTOR_LENGTH : ModePages.SHORT_DESCRIPTOR_LENGTH;
        if (headerLength + descriptorsLength > length || descriptorsLength % descriptorLength != 0) {
            throw CheckConditionException.illegalRequest(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
        }
        for (int d = headerLength; d < headerLength + descriptorsLength; d += descriptorLength) {
            int at = d + (longLba ? BLOCK_LENGTH_OFFSET_LONG : BLOCK_LENGTH_OFFSET_SHORT);
            int requested = longLba ? p.getInt(at) : ((p.get(at) & 0xFF) << 16) | (p.getShort(at + 1) & 0xFFFF);
            // Changing the block length would reformat the medium: only the current value is allowed.
            if (requested != blockSize) {
                throw CheckConditionException.invalidFieldInParameterList(at, -1);
            }
        }
        int at = headerLength + descriptorsLength;
        while (at < length) {
            if (at + PAGE_HEADER_LENGTH > length) {
                throw CheckConditionException.illegalRequest(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
            }
            int code = p.get(at) & PAGE_CODE_MASK;
            if ((p.get(at) & SPF_BIT) != 0 || !ModePages.isSupported(code)) {
                throw CheckConditionException.invalidFieldInParameterList(at, -1);
            }
            byte[] current = ModePages.page(code, ModePages.PC_CURRENT, !writable);
            int pageLength = p.get(at + 1) & 0xFF;
            if (pageLength != current.length - PAGE_HEADER_LENGTH) {
                throw CheckConditionException.invalidFieldInParameterList(at + 1, -1);
            }
            if (at + PAGE_HEADER_LENGTH + pageLength > length) {
                throw CheckConditionException.illegalRequest(AdditionalSense.PARAMETER_LIST_LENGTH_ERROR);
            }
            for (int i = PAGE_HEADER_LENGTH; i < current.length; i++) {
                if (p.get(at + i) != current[i]) {
                    throw CheckConditionException.invalidFieldInParameterList(at + i, -1);
                }
            }
            at += current.length;
        }
        return ScsiResponses.good();
    }
}
