package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/** What one {@link PduDecoder#decode} call produced. */
public sealed interface DecodeResult {

    /** A complete PDU. */
    record Decoded(Pdu pdu) implements DecodeResult {
    }

    /** The input ran out before a PDU was complete; call again with more bytes. */
    record NeedMoreInput() implements DecodeResult {
        static final NeedMoreInput INSTANCE = new NeedMoreInput();
    }

    /**
     * The input is not a valid PDU.
     *
     * @param error what was wrong
     * @param bhs   a copy of the offending PDU's Basic Header Segment (for a Reject's data
     *              segment, §11.17), or {@code null} if the header itself is not trustworthy
     */
    record Malformed(DecodeError error, ByteBuffer bhs) implements DecodeResult {
    }
}
