package dev.virtman.iscsi.initiator;

import java.nio.ByteBuffer;

/**
 * What READ CAPACITY returns: the last LBA and the logical block length.
 *
 * <pre>
 * READ CAPACITY(10) data (SBC-3 §5.15.2)        READ CAPACITY(16) data (SBC-3 §5.16.2)
 *  Byte 0-3  RETURNED LOGICAL BLOCK ADDRESS       Byte 0-7   RETURNED LOGICAL BLOCK ADDRESS
 *       4-7  LOGICAL BLOCK LENGTH IN BYTES             8-11  LOGICAL BLOCK LENGTH IN BYTES
 *                                                      12-31 protection, exponent, provisioning
 * </pre>
 *
 * @param lastLba   the highest addressable LBA
 * @param blockSize the logical block length in bytes
 */
public record Capacity(long lastLba, int blockSize) {

    public static final int LENGTH_10 = 8;
    /** We ask for the full 32 bytes READ CAPACITY(16) defines. */
    public static final int LENGTH_16 = 32;
    public static final int BLOCK_LENGTH_OFFSET_10 = 4;
    public static final int BLOCK_LENGTH_OFFSET_16 = 8;
    /** READ CAPACITY(10)'s LBA saturates at FFFFFFFFh when the device is too big for it. */
    public static final long LBA_10_SATURATED = 0xffff_ffffL;
    /** Sanity bound on the block length a target may claim (SBC-3 allows up to 2^32 - 1; no disk uses more than 64 KiB). */
    public static final int MAX_BLOCK_SIZE = 1 << 16;

    public Capacity {
        if (lastLba < 0) {
            throw new IllegalArgumentException("target reports a capacity beyond 2^63 blocks");
        }
        if (blockSize <= 0 || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("target reports a logical block length of " + blockSize);
        }
        if (Math.multiplyHigh(lastLba + 1, blockSize) != 0 || (lastLba + 1) * blockSize < 0) {
            throw new IllegalArgumentException("target reports a capacity beyond 2^63 bytes");
        }
    }

    /** Parses READ CAPACITY(10) data (at least 8 bytes). */
    public static Capacity parse10(final ByteBuffer data) {
        requireLength(data, LENGTH_10);
        return new Capacity(Integer.toUnsignedLong(data.getInt(0)), data.getInt(BLOCK_LENGTH_OFFSET_10));
    }

    /** Parses READ CAPACITY(16) data (at least 12 bytes). */
    public static Capacity parse16(final ByteBuffer data) {
        requireLength(data, BLOCK_LENGTH_OFFSET_16 + Integer.BYTES);
        return new Capacity(data.getLong(0), data.getInt(BLOCK_LENGTH_OFFSET_16));
    }

    /** Number of logical blocks. */
    public long blocks() {
        return lastLba + 1;
    }

    /** Capacity in bytes. */
    public long bytes() {
        return blocks() * blockSize;
    }

    private static void requireLength(final ByteBuffer data, final int length) {
        if (data.limit() < length) {
            throw new IllegalArgumentException("READ CAPACITY returned " + data.limit() + " bytes, need " + length);
        }
    }
}
