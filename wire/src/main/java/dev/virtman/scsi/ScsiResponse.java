package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * The outcome of one SCSI command.
 *
 * @param status    SAM status byte (GOOD 0x00, CHECK CONDITION 0x02, BUSY 0x08, ...)
 * @param dataIn    data for the initiator (position 0, limit = bytes the command produced), or
 *                  {@code null}; the transport truncates it to the Expected Data Transfer Length
 *                  and reports the residual
 * @param senseData fixed-format sense data (SPC-4 §4.5.3) when status is CHECK CONDITION, else {@code null}
 * @param dataOutTransferLength for commands with data-out (WRITE, COMPARE AND WRITE, MODE SELECT, ...):
 *                  the number of data-out bytes the CDB asked for, i.e. the SCSI-Presented Data
 *                  Transfer Length of RFC 7143 §11.4.5.2, whatever the status; the transport
 *                  compares it with the Expected Data Transfer Length to report a write's residual
 *                  overflow (EDTL smaller) or underflow (EDTL larger). {@code -1} when the command
 *                  has no data-out or the layer does not know (then the transport reports none)
 */
public record ScsiResponse(int status, ByteBuffer dataIn, byte[] senseData, long dataOutTransferLength) {

    /** A response without data-out information (reads and commands without data). */
    public ScsiResponse(final int status, final ByteBuffer dataIn, final byte[] senseData) {
        this(status, dataIn, senseData, -1);
    }

    /** This response with {@link #dataOutTransferLength} set. */
    public ScsiResponse withDataOutTransferLength(final long length) {
        return new ScsiResponse(status, dataIn, senseData, length);
    }
}
