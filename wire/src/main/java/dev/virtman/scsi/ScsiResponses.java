package dev.virtman.scsi;

import java.nio.ByteBuffer;

/** Builds the {@link ScsiResponse}s of this layer: GOOD with optional data-in, or CHECK CONDITION. */
public final class ScsiResponses {
    private static final ScsiResponse GOOD = new ScsiResponse(ScsiStatus.GOOD.code(), null, null);

    private ScsiResponses() {
    }

    public static ScsiResponse good() {
        return GOOD;
    }

    /**
     * GOOD with {@code data} cut to {@code allocationLength} (SPC-4 §4.3.5.6: the device server
     * returns at most ALLOCATION LENGTH bytes, no error when the data is longer).
     */
    public static ScsiResponse dataIn(final byte[] data, final long allocationLength) {
        int n = (int) Math.min(data.length, allocationLength);
        return new ScsiResponse(ScsiStatus.GOOD.code(), ByteBuffer.wrap(data, 0, n).slice(), null);
    }

    public static ScsiResponse dataIn(final ByteBuffer data) {
        return new ScsiResponse(ScsiStatus.GOOD.code(), data, null);
    }

    public static ScsiResponse checkCondition(final SenseData sense) {
        return new ScsiResponse(ScsiStatus.CHECK_CONDITION.code(), null, sense.toBytes());
    }

    public static ScsiResponse status(final ScsiStatus status) {
        return new ScsiResponse(status.code(), null, null);
    }
}
