package dev.virtman.iscsi.pdu;

import java.nio.ByteBuffer;

/**
 * Joins the data segments of a Login or Text exchange whose PDUs carry the C (continue) bit
 * (RFC 7143 §6.1: a key=value pair may be split across PDUs), with a bound on the total.
 */
public final class TextAssembler {

    private final int maxLength;
    private ByteBuffer text;

    public TextAssembler(final int maxLength) {
        this.maxLength = maxLength;
        this.text = ByteBuffer.allocate(0);
    }

    public TextAssembler() {
        this(TextCodec.DEFAULT_MAX_TEXT_LENGTH);
    }

    /** Appends one PDU's data segment; false (and nothing appended) if the bound would be exceeded. */
    public boolean append(final ByteBuffer segment) {
        int n = segment.remaining();
        if (text.position() + n > maxLength) {
            return false;
        }
        if (text.remaining() < n) {
            int capacity = Math.min(maxLength, Math.max(text.capacity() * 2, text.position() + n));
            ByteBuffer bigger = ByteBuffer.allocate(capacity);
            bigger.put(text.flip());
            text = bigger;
        }
        text.put(segment.duplicate());
        return true;
    }

    /** The text gathered so far (a read-only view); the assembler is reset. */
    public ByteBuffer take() {
        ByteBuffer whole = text.flip().asReadOnlyBuffer();
        text = ByteBuffer.allocate(0);
        return whole;
    }

    /** Bytes gathered so far. */
    public int length() {
        return text.position();
    }
}
