package dev.virtman.iscsi.pdu;

/** Why {@link PduDecoder} could not produce a PDU. */
public enum DecodeError {
    /**
     * The header digest did not match (RFC 7143 §7.8: the header, and so the stream position of
     * everything after it, cannot be trusted; the connection must be closed).
     */
    HEADER_DIGEST_MISMATCH(false),
    /**
     * The data digest did not match; the header was sound, so the stream is still framed and the
     * PDU can be rejected with reason 0x02 (§7.8, §11.17.1).
     */
    DATA_DIGEST_MISMATCH(true),
    /** DataSegmentLength exceeds what this side declared it can receive (MaxRecvDataSegmentLength, §13.12). */
    DATA_SEGMENT_TOO_LONG(false),
    /** TotalAHSLength exceeds the bound this decoder accepts (§11.2.1.4). */
    AHS_TOO_LONG(false),
    /** An AHS's length field runs past the end of the AHS area (§11.2.2). */
    AHS_MALFORMED(false);

    private final boolean streamStillFramed;

    DecodeError(final boolean streamStillFramed) {
        this.streamStillFramed = streamStillFramed;
    }

    /** Whether decoding can go on with the next PDU (otherwise the connection must close). */
    public boolean streamStillFramed() {
        return streamStillFramed;
    }
}
