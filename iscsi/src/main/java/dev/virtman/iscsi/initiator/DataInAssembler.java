package dev.virtman.iscsi.initiator;

import java.nio.ByteBuffer;

/**
 * Places the Data-In payloads of one command into the caller's buffer (RFC 7143 §11.7) and
 * checks them: we negotiate DataPDUInOrder=Yes and DataSequenceInOrder=Yes (§13.18, §13.19),
 * so each PDU must start exactly where the previous one ended (BufferOffset) and carry the
 * next DataSN (§11.7.5). Nothing is ever written outside {@code [0, expectedLength)} of the
 * buffer, whatever the target claims; a lie is an {@link IscsiException}.
 */
final class DataInAssembler {

    private final ByteBuffer destination;
    private final int expectedLength;
    private int received;
    private int nextDataSN;

    /**
     * @param destination bytes land at destination.position() + BufferOffset; its remaining
     *                    space must be at least {@code expectedLength}
     */
    DataInAssembler(final ByteBuffer destination, final int expectedLength) {
        if (expectedLength < 0 || (expectedLength > 0 && destination.remaining() < expectedLength)) {
            throw new IllegalArgumentException("buffer of " + (destination == null ? 0 : destination.remaining())
                    + " bytes cannot take " + expectedLength);
        }
        this.destination = destination;
        this.expectedLength = expectedLength;
    }

    /** Copies one Data-In payload to its place. */
    void accept(final int dataSN, final int bufferOffset, final ByteBuffer payload) throws IscsiException {
        int length = payload.remaining();
        if (dataSN != nextDataSN) {
            throw new IscsiException("Data-In out of sequence: DataSN " + Integer.toUnsignedString(dataSN)
                    + ", expected " + nextDataSN);
        }
        if (bufferOffset != received) {
            throw new IscsiException("Data-In BufferOffset " + Integer.toUnsignedString(bufferOffset)
                    + " where " + received + " was expected (DataPDUInOrder=Yes)");
        }
        if (length > expectedLength - received) {
            throw new IscsiException("Data-In of " + length + " bytes at offset " + received
                    + " overruns the expected transfer length " + expectedLength);
        }
        if (length > 0) {
            destination.put(destination.position() + bufferOffset, payload, payload.position(), length);
        }
        received += length;
        nextDataSN++;
    }

    /** Forgets what arrived (the command is being reissued). */
    void reset() {
        received = 0;
        nextDataSN = 0;
    }

    /** Bytes placed so far. */
    int received() {
        return received;
    }

    int expectedLength() {
        return expectedLength;
    }
}
