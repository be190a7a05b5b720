package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * Base flyweight over a command descriptor block (SPC-4 §4.3): big-endian field accessors by
 * absolute offset plus the two fields every CDB shares, OPERATION CODE (byte 0) and CONTROL
 * (the last byte). Subclasses name the offsets of one layout. Reads past the CDB the initiator
 * sent return 0 instead of throwing, so a short CDB can never crash the device server.
 */
public class Cdb {
    public static final int OPCODE_OFFSET = 0;
    /** CONTROL byte NACA bit (SAM-5 §5.2): we do not support ACA, so NACA = 1 is rejected. */
    public static final int CONTROL_NACA = 0x04;

    protected final ByteBuffer buffer;
    private final int length;

    /** Wraps {@code cdb} (absolute indexing from position 0); {@code length} is the layout's size. */
    protected Cdb(final ByteBuffer cdb, final int length) {
        this.buffer = cdb;
        this.length = length;
    }

    /** A generic view with the CDB length implied by its group code (SPC-4 §4.3.5.1). */
    public static Cdb of(final ByteBuffer cdb) {
        int op = cdb.limit() > 0 ? cdb.get(0) & 0xFF : 0;
        int length = ScsiOpcode.cdbLength(op);
        return new Cdb(cdb, length > 0 ? length : cdb.limit());
    }

    public final int opcode() {
        return u8(OPCODE_OFFSET);
    }

    /** Length of this CDB layout in bytes. */
    public final int length() {
        return length;
    }

    public final int controlOffset() {
        return length - 1;
    }

    /** The CONTROL byte (SAM-5 §5.2), the last byte of every CDB. */
    public final int control() {
        return u8(controlOffset());
    }

    /** The low five bits of byte 1: the SERVICE ACTION of 12- and 16-byte service-action CDBs. */
    public final int serviceAction() {
        return u8(1) & 0x1F;
    }

    public final int u8(final int offset) {
        return offset < buffer.limit() ? buffer.get(offset) & 0xFF : 0;
    }

    public final int u16(final int offset) {
        return (u8(offset) << 8) | u8(offset + 1);
    }

    public final int u24(final int offset) {
        return (u8(offset) << 16) | u16(offset + 1);
    }

    public final long u32(final int offset) {
        return ((long) u16(offset) << 16) | u16(offset + 2);
    }

    /** An unsigned 64-bit field; values above {@link Long#MAX_VALUE} come back negative. */
    public final long u64(final int offset) {
        return (u32(offset) << 32) | u32(offset + 4);
    }

    public final boolean bit(final int offset, final int bit) {
        return (u8(offset) & (1 << bit)) != 0;
    }
}
