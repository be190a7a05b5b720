package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Turns a byte stream into {@link Pdu}s (RFC 7143 §11.1 framing). An explicit state machine:
 *
 * <pre>
 *   READ_BHS -&gt; READ_AHS -&gt; READ_HEADER_DIGEST -&gt; READ_DATA -&gt; READ_DATA_DIGEST -&gt; (PDU) READ_BHS
 *                    (states with nothing to read are skipped)
 * </pre>
 *
 * <p>It consumes exactly the bytes of one PDU per result, keeps partial state between calls, and
 * bounds TotalAHSLength and DataSegmentLength against {@link #maxDataSegmentLength} and
 * {@link #MAX_AHS_LENGTH} before it allocates anything, so a lying length field costs nothing.
 * Malformed input becomes a {@link DecodeResult.Malformed} value, never an exception. After an
 * error whose {@link DecodeError#streamStillFramed()} is false the decoder stays failed.
 *
 * <p>Digest and length settings change after login negotiation; callers change them between PDUs
 * (login is a strict request/response exchange, so no later PDU is buffered yet, §13.12, §13.1).
 * Not thread-safe: one decoder per connection, driven by its reader.
 */
public final class PduDecoder {

    /**
     * Largest AHS area accepted: an extended-CDB AHS for a 260-byte CDB plus a bidirectional
     * read-length AHS (§11.2.2.3, §11.2.2.4), rounded up. TotalAHSLength could claim 1020 bytes.
     */
    public static final int MAX_AHS_LENGTH = 320;
    /** MaxRecvDataSegmentLength while logging in (§13.12: 8192 until negotiated). */
    public static final int DEFAULT_MAX_DATA_SEGMENT_LENGTH = 8192;

    private static final int PAD_ALIGNMENT = 4;
    private static final int AHS_HEADER_LENGTH = 3;

    /** Where the decoder is inside the current PDU. */
    public enum State { READ_BHS, READ_AHS, READ_HEADER_DIGEST, READ_DATA, READ_DATA_DIGEST, FAILED }

    private final ByteBuffer bhs = ByteBuffer.allocate(BasicHeaderSegment.LENGTH);
    private final ByteBuffer digest = ByteBuffer.allocate(Crc32cDigest.LENGTH);
    private ByteBuffer ahs;
    private ByteBuffer data;
    private int dataLength;
    private State state = State.READ_BHS;
    private DecodeResult.Malformed failure;

    private int maxDataSegmentLength = DEFAULT_MAX_DATA_SEGMENT_LENGTH;
    private boolean headerDigest;
    private boolean dataDigest;

    /** Bounds the DataSegmentLength this side accepts (its declared MaxRecvDataSegmentLength). */
    public void maxDataSegmentLength(final int bytes) {
        if (bytes <= 0 || bytes > BasicHeaderSegment.MAX_DATA_SEGMENT_LENGTH) {
            throw new IllegalArgumentException("bad MaxRecvDataSegmentLength " + bytes);
        }
        this.maxDataSegmentLength = bytes;
    }

    public int maxDataSegmentLength() {
        return maxDataSegmentLength;
    }

    /** Whether PDUs carry a CRC32C header digest (HeaderDigest=CRC32C, §13.1). */
    public void headerDigest(final boolean enabled) {
        this.headerDigest = enabled;
    }

    /** Whether PDUs with a data segment carry a CRC32C data digest (DataDigest=CRC32C). */
    public void dataDigest(final boolean enabled) {
        this.dataDigest = enabled;
    }

    public State state() {
        return state;
    }

    /**
     * Consumes bytes from {@code in} (from its position, advancing it) until one PDU is complete,
     * the input is exhausted, or the input proves malformed.
     */
    public DecodeResult decode(final ByteBuffer in) {
        while (true) {
            switch (state) {
                case FAILED:
                    return failure;
                case READ_BHS:
                    if (!fill(bhs, in)) {
                        return DecodeResult.NeedMoreInput.INSTANCE;
                    }
                    DecodeResult.Malformed bad = startPdu();
                    if (bad != null) {
                        return fail(bad);
                    }
                    break;
                case READ_AHS:
                    if (!fill(ahs, in)) {
                        return DecodeResult.NeedMoreInput.INSTANCE;
                    }
                    if (!ahsWellFormed(ahs)) {
                        return fail(new DecodeResult.Malformed(DecodeError.AHS_MALFORMED, bhsCopy()));
                    }
                    state = headerDigest ? State.READ_HEADER_DIGEST : afterHeader();
                    break;
                case READ_HEADER_DIGEST:
                    if (!fill(digest, in)) {
                        return DecodeResult.NeedMoreInput.INSTANCE;
                    }
                    int expectedHeader = Crc32cDigest.compute(bhs.duplicate().flip(), ahs.duplicate().flip());
                    if (Crc32cDigest.get(digest, 0) != expectedHeader) {
                        return fail(new DecodeResult.Malformed(DecodeError.HEADER_DIGEST_MISMATCH, null));
                    }
                    digest.clear();
                    state = afterHeader();
                    break;
                case READ_DATA:
                    if (!fill(data, in)) {
                        return DecodeResult.NeedMoreInput.INSTANCE;
                    }
                    if (dataDigest && dataLength > 0) {
                        state = State.READ_DATA_DIGEST;
                        break;
                    }
                    return complete();
                case READ_DATA_DIGEST:
                    if (!fill(digest, in)) {
                        return DecodeResult.NeedMoreInput.INSTANCE;
                    }
                    int expectedData = Crc32cDigest.compute(data.duplicate().flip());
                    if (Crc32cDigest.get(digest, 0) != expectedData) {
                        DecodeResult.Malformed m = new DecodeResult.Malformed(DecodeError.DATA_DIGEST_MISMATCH, bhsCopy());
                        reset();
                        return m;
                    }
                    return complete();
                default:
                    throw new IllegalStateException(state.name());
            }
        }
    }

    /** Validates the lengths of a just-read BHS and allocates the (bounded) rest. */
    private DecodeResult.Malformed startPdu() {
        BasicHeaderSegment h = new BasicHeaderSegment(bhs);
        int ahsLength = h.totalAhsLengthBytes();
        dataLength = h.dataSegmentLength();
        if (ahsLength > MAX_AHS_LENGTH) {
            return new DecodeResult.Malformed(DecodeError.AHS_TOO_LONG, bhsCopy());
        }
        if (dataLength > maxDataSegmentLength) {
            return new DecodeResult.Malformed(DecodeError.DATA_SEGMENT_TOO_LONG, bhsCopy());
        }
        ahs = ByteBuffer.allocate(ahsLength);
        state = ahsLength > 0 ? State.READ_AHS : headerDigest ? State.READ_HEADER_DIGEST : afterHeader();
        return null;
    }

    private State afterHeader() {
        if (dataLength == 0) {
            return State.READ_DATA;
        }
        data = ByteBuffer.allocate(padded(dataLength));
        return State.READ_DATA;
    }

    private DecodeResult complete() {
        ByteBuffer payload;
        if (dataLength == 0) {
            payload = ByteBuffer.allocate(0);
        } else {
            payload = data.flip().limit(dataLength);
        }
        ByteBuffer header = ByteBuffer.allocate(BasicHeaderSegment.LENGTH);
        header.put(0, bhs, 0, BasicHeaderSegment.LENGTH);
        Pdu pdu = new Pdu(header, ahs.flip(), payload);
        reset();
        return new DecodeResult.Decoded(pdu);
    }

    private void reset() {
        bhs.clear();
        digest.clear();
        ahs = null;
        data = null;
        dataLength = 0;
        state = State.READ_BHS;
    }

    private DecodeResult.Malformed fail(final DecodeResult.Malformed m) {
        failure = m;
        state = State.FAILED;
        ahs = null;
        data = null;
        return m;
    }

    private ByteBuffer bhsCopy() {
        ByteBuffer copy = ByteBuffer.allocate(BasicHeaderSegment.LENGTH);
        copy.put(0, bhs, 0, BasicHeaderSegment.LENGTH);
        return copy;
    }

    /** Whether each AHS's AHSLength stays inside the AHS area (§11.2.2: 2-byte length, 1-byte type). */
    private static boolean ahsWellFormed(final ByteBuffer area) {
        int end = area.position();
        int i = 0;
        while (i < end) {
            if (i + AHS_HEADER_LENGTH > end) {
                return false;
            }
            int specificLength = area.getShort(i) & 0xffff;
            i += padded(AHS_HEADER_LENGTH + specificLength);
            if (i > end) {
                return false;
            }
        }
        return true;
    }

    /** Copies from {@code in} into {@code dst} until one of them is exhausted; true when dst is full. */
    private static boolean fill(final ByteBuffer dst, final ByteBuffer in) {
        if (dst == null) {
            return true;
        }
        int n = Math.min(dst.remaining(), in.remaining());
        if (n > 0) {
            dst.put(dst.position(), in, in.position(), n);
            dst.position(dst.position() + n);
            in.position(in.position() + n);
        }
        return !dst.hasRemaining();
    }

    /** {@code length} rounded up to a multiple of four (§11.1 padding). */
    public static int padded(final int length) {
        return (length + PAD_ALIGNMENT - 1) & -PAD_ALIGNMENT;
    }
}
