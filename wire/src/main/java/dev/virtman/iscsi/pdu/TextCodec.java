package dev.virtman.iscsi.pdu;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The text format of Login and Text PDUs (RFC 7143 §6.1): UTF-8 {@code key=value} pairs, each
 * terminated by a NUL byte. Keys are at most 63 bytes (§6.1); values at most 8192 bytes (the
 * longest, CHAP binary values, §12.1.3); the whole text and the number of pairs are bounded too,
 * so a peer cannot make us build arbitrarily large maps.
 */
public final class TextCodec {

    /** Key names are at most 63 bytes (§6.1). */
    public static final int MAX_KEY_LENGTH = 63;
    /** Values are at most 8192 bytes (§6.1 "the maximum length of an individual value"). */
    public static final int MAX_VALUE_LENGTH = 8192;
    /** Bound on one exchange's text (sum over continuation PDUs). */
    public static final int DEFAULT_MAX_TEXT_LENGTH = 64 * 1024;
    /** Bound on the number of pairs in one exchange. */
    public static final int DEFAULT_MAX_PAIRS = 256;

    private static final byte NUL = 0;
    private static final byte EQUALS = '=';

    private TextCodec() {
    }

    /** The outcome of parsing a text. */
    public sealed interface ParseResult {
        /** The pairs in order of appearance (keys may repeat, e.g. TargetName in SendTargets). */
        record Parsed(List<TextParameter> parameters) implements ParseResult {
        }

        /** The text breaks §6.1's rules; {@code reason} says how. */
        record Invalid(String reason) implements ParseResult {
        }
    }

    /** Parses {@code text}'s remaining bytes with the default bounds. */
    public static ParseResult decode(final ByteBuffer text) {
        return decode(text, DEFAULT_MAX_TEXT_LENGTH, DEFAULT_MAX_PAIRS);
    }

    /** Parses {@code text}'s remaining bytes (not advancing it). Trailing NUL padding is ignored. */
    public static ParseResult decode(final ByteBuffer text, final int maxLength, final int maxPairs) {
        ByteBuffer b = text.duplicate();
        if (b.remaining() > maxLength) {
            return new ParseResult.Invalid("text longer than " + maxLength + " bytes");
        }
        List<TextParameter> out = new ArrayList<>();
        int start = b.position();
        int end = b.limit();
        int i = start;
        while (i < end) {
            if (b.get(i) == NUL) {
                i++; // empty item: padding or a stray terminator
                continue;
            }
            int itemEnd = i;
            while (itemEnd < end && b.get(itemEnd) != NUL) {
                itemEnd++;
            }
            int eq = -1;
            for (int j = i; j < itemEnd; j++) {
                if (b.get(j) == EQUALS) {
                    eq = j;
                    break;
                }
            }
            if (eq < 0) {
                return new ParseResult.Invalid("item without '=' at byte " + (i - start));
            }
            int keyLength = eq - i;
            int valueLength = itemEnd - eq - 1;
            if (keyLength == 0 || keyLength > MAX_KEY_LENGTH) {
                return new ParseResult.Invalid("key length " + keyLength + " at byte " + (i - start));
            }
            if (valueLength > MAX_VALUE_LENGTH) {
                return new ParseResult.Invalid("value longer than " + MAX_VALUE_LENGTH + " bytes");
            }
            if (out.size() >= maxPairs) {
                return new ParseResult.Invalid("more than " + maxPairs + " keys");
            }
            out.add(new TextParameter(string(b, i, keyLength), string(b, eq + 1, valueLength)));
            i = itemEnd + 1;
        }
        return new ParseResult.Parsed(List.copyOf(out));
    }

    /** Encodes {@code parameters} as NUL-terminated {@code key=value} items. */
    public static ByteBuffer encode(final List<TextParameter> parameters) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (TextParameter p : parameters) {
            byte[] key = p.key().getBytes(StandardCharsets.UTF_8);
            byte[] value = p.value().getBytes(StandardCharsets.UTF_8);
            out.writeBytes(key);
            out.write(EQUALS);
            out.writeBytes(value);
            out.write(NUL);
        }
        return ByteBuffer.wrap(out.toByteArray());
    }

    private static String string(final ByteBuffer b, final int index, final int length) {
        byte[] bytes = new byte[length];
        b.get(index, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
