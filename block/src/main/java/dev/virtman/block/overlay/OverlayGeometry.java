package dev.virtman.block.overlay;

import java.util.Arrays;

/**
 * The shape of a copy-on-write volume: its size, the grain (unit of copy-on-write) and the base
 * it reads unwritten grains from.
 *
 * @param volumeSize bytes; a multiple of 512 and at least the base's size (a volume may be larger
 *                   than its image: the part past the image reads as zeros until written)
 * @param grainSize  bytes per grain; a power of two, at least 4096
 * @param baseId     32-byte id of the base (the image id), so a volume is never opened over another image
 */
public record OverlayGeometry(long volumeSize, int grainSize, byte[] baseId) {
    /** 64 KiB: a 4 KiB guest write copies at most 60 KiB of base data, and 1 TiB needs a 2 MiB bitmap. */
    public static final int DEFAULT_GRAIN_SIZE = 64 * 1024;
    static final int MIN_GRAIN_SIZE = 4096;
    static final int SECTOR = 512;

    public OverlayGeometry {
        if (grainSize < MIN_GRAIN_SIZE || Integer.bitCount(grainSize) != 1) {
            throw new IllegalArgumentException("grain size must be a power of two >= " + MIN_GRAIN_SIZE + ": " + grainSize);
        }
        if (volumeSize <= 0 || volumeSize % SECTOR != 0) {
            throw new IllegalArgumentException("volume size must be a positive multiple of " + SECTOR + ": " + volumeSize);
        }
        if ((volumeSize + grainSize - 1) / grainSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("volume of " + volumeSize + " bytes has too many grains of " + grainSize);
        }
        if (baseId == null || baseId.length != OverlayBitmap.BASE_ID_LENGTH) {
            throw new IllegalArgumentException("base id must be " + OverlayBitmap.BASE_ID_LENGTH + " bytes");
        }
        baseId = baseId.clone();
    }

    public int grainCount() {
        return (int) ((volumeSize + grainSize - 1) / grainSize);
    }

    @Override
    public byte[] baseId() {
        return baseId.clone();
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof OverlayGeometry g && g.volumeSize == volumeSize && g.grainSize == grainSize
                && Arrays.equals(g.baseId, baseId);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(volumeSize) * 31 + grainSize * 17 + Arrays.hashCode(baseId);
    }
}
