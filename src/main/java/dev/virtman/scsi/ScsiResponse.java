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
 */
public record ScsiResponse(int status, ByteBuffer dataIn, byte[] senseData) {
}
