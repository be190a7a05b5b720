package dev.virtman.scsi;

import java.nio.ByteBuffer;

/**
 * One SCSI command as the transport (iSCSI) hands it to a logical unit.
 *
 * @param lun                          the 64-bit LUN field as sent on the wire (SAM-5 §4.7);
 *                                     for the flat/peripheral addressing initiators use, LUN n
 *                                     is {@code (long) n << 48}
 * @param cdb                          the command descriptor block (position 0, limit = CDB length)
 * @param expectedDataTransferLength   the initiator's Expected Data Transfer Length in bytes
 * @param dataOut                      for writes, all data-out bytes collected by the transport
 *                                     (position 0, limit = bytes received); otherwise {@code null}
 * @param dataInBuffers                where a read's data goes (see {@link DataInBuffers})
 */
public record ScsiCommand(long lun, ByteBuffer cdb, int expectedDataTransferLength, ByteBuffer dataOut,
                          DataInBuffers dataInBuffers) {

    public ScsiCommand {
        if (dataInBuffers == null) {
            throw new IllegalArgumentException("dataInBuffers must not be null");
        }
    }

    /** A command whose read data lands in heap buffers. */
    public ScsiCommand(final long lun, final ByteBuffer cdb, final int expectedDataTransferLength,
                       final ByteBuffer dataOut) {
        this(lun, cdb, expectedDataTransferLength, dataOut, DataInBuffers.HEAP);
    }
}
