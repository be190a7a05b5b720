package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * SCSI Command PDU header, opcode 0x01 (RFC 7143 §11.3).
 *
 * <pre>
 *   |0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|0 1 2 3 4 5 6 7|
 *   +---------------+---------------+---------------+---------------+
 *  0|.|I| 0x01      |F|R|W|. .|ATTR | Reserved                      |
 *   +---------------+---------------+---------------+---------------+
 *  4|TotalAHSLength | DataSegmentLength                             |
 *   +---------------+---------------+---------------+---------------+
 *  8| Logical Unit Number (LUN)                                     |
 *   +                                                               +
 * 12|                                                               |
 *   +---------------+---------------+---------------+---------------+
 * 16|  Initiator Task Tag                                           |
 *   +---------------+---------------+---------------+---------------+
 * 20|  Expected Data Transfer Length                                |
 *   +---------------+---------------+---------------+---------------+
 * 24|  CmdSN                                                        |
 *   +---------------+---------------+---------------+---------------+
 * 28|  ExpStatSN                                                    |
 *   +---------------+---------------+---------------+---------------+
 * 32/ SCSI Command Descriptor Block (CDB), 16 bytes                 /
 *   +/                                                              /
 *   +---------------+---------------+---------------+---------------+
 * 48
 * </pre>
 */
public final class ScsiCommandHeader extends BasicHeaderSegment {

    public static final int READ_OFFSET = 1;
    public static final int READ_BIT = 0x40;
    public static final int WRITE_OFFSET = 1;
    public static final int WRITE_BIT = 0x20;
    public static final int ATTRIBUTES_OFFSET = 1;
    public static final int ATTRIBUTES_MASK = 0x07;
    public static final int ATTRIBUTES_SHIFT = 0;
    public static final int EXPECTED_DATA_TRANSFER_LENGTH_OFFSET = 20;
    public static final int CMD_SN_OFFSET = 24;
    public static final int EXP_STAT_SN_OFFSET = 28;

    /** Wraps an existing BHS. */
    public ScsiCommandHeader(final ByteBuffer bhs) {
        super(bhs);
    }

    /** A new zeroed BHS with the opcode and F bit set. */
    public static ScsiCommandHeader create() {
        ScsiCommandHeader h = new ScsiCommandHeader(allocate(Opcode.SCSI_COMMAND));
        h.finalFlag(true);
        return h;
    }

    /** R bit: the command reads data from the target (Data-In). */
    public boolean read() {
        return bit(READ_OFFSET, READ_BIT);
    }

    public ScsiCommandHeader read(final boolean value) {
        setBit(READ_OFFSET, READ_BIT, value);
        return this;
    }

    /** W bit: the command writes data to the target (Data-Out). */
    public boolean write() {
        return bit(WRITE_OFFSET, WRITE_BIT);
    }

    public ScsiCommandHeader write(final boolean value) {
        setBit(WRITE_OFFSET, WRITE_BIT, value);
        return this;
    }

    /** Task attribute: 0 untagged, 1 simple, 2 ordered, 3 head of queue, 4 ACA. */
    public int taskAttributes() {
        return (unsignedByteAt(ATTRIBUTES_OFFSET) & ATTRIBUTES_MASK) >>> ATTRIBUTES_SHIFT;
    }

    public ScsiCommandHeader taskAttributes(final int value) {
        int other = unsignedByteAt(ATTRIBUTES_OFFSET) & ~ATTRIBUTES_MASK;
        unsignedByteAt(ATTRIBUTES_OFFSET, other | (value << ATTRIBUTES_SHIFT) & ATTRIBUTES_MASK);
        return this;
    }

    public int expectedDataTransferLength() {
        return intAt(EXPECTED_DATA_TRANSFER_LENGTH_OFFSET);
    }

    public ScsiCommandHeader expectedDataTransferLength(final int value) {
        intAt(EXPECTED_DATA_TRANSFER_LENGTH_OFFSET, value);
        return this;
    }

    public int cmdSN() {
        return intAt(CMD_SN_OFFSET);
    }

    public ScsiCommandHeader cmdSN(final int value) {
        intAt(CMD_SN_OFFSET, value);
        return this;
    }

    public int expStatSN() {
        return intAt(EXP_STAT_SN_OFFSET);
    }

    public ScsiCommandHeader expStatSN(final int value) {
        intAt(EXP_STAT_SN_OFFSET, value);
        return this;
    }

    /** Offset and length of the CDB inside the BHS; longer CDBs continue in an extended-CDB AHS (§11.2.2.3). */
    public static final int CDB_OFFSET = 32;
    public static final int CDB_LENGTH = 16;

    /** A copy of the 16-byte CDB field. */
    public byte[] cdb() {
        byte[] cdb = new byte[CDB_LENGTH];
        buffer.get(CDB_OFFSET, cdb);
        return cdb;
    }

    /** Sets the CDB field; {@code cdb} is at most 16 bytes, the rest is zero-filled. */
    public ScsiCommandHeader cdb(final byte[] cdb) {
        if (cdb.length > CDB_LENGTH) {
            throw new IllegalArgumentException("CDB longer than " + CDB_LENGTH + " bytes needs an AHS");
        }
        buffer.put(CDB_OFFSET, new byte[CDB_LENGTH]);
        buffer.put(CDB_OFFSET, cdb);
        return this;
    }
}
