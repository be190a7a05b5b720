package dev.virtman.iscsi.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * CHAP computations (RFC 1994 §4.1, as used by RFC 7143 §12.1.3) and the binary-value encoding
 * of §6.1 ({@code 0x} hex or {@code 0b} base64). Shared by the target and the initiator.
 */
public final class Chap {

    /** CHAP_A value for MD5, the only algorithm RFC 7143 requires (§12.1.3). */
    public static final String ALGORITHM_MD5 = "5";
    /** Length of our challenges: 16 bytes, like MD5's output. */
    public static final int CHALLENGE_LENGTH = 16;
    /** Longest binary value we decode (§6.1 bounds values at 8192 bytes of text). */
    public static final int MAX_BINARY_LENGTH = 1024;

    private static final String HEX_PREFIX = "0x";
    private static final String BASE64_PREFIX = "0b";

    private Chap() {
    }

    /** CHAP response: MD5(identifier || secret || challenge) (RFC 1994 §4.1). */
    public static byte[] response(final int identifier, final String secret, final byte[] challenge) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update((byte) identifier);
            md5.update(secret.getBytes(StandardCharsets.UTF_8));
            md5.update(challenge);
            return md5.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has MD5", e);
        }
    }

    /** Encodes bytes as a §6.1 hex binary value ({@code 0x...}). */
    public static String encodeHex(final byte[] bytes) {
        return HEX_PREFIX + HexFormat.of().formatHex(bytes);
    }

    /**
     * Decodes a §6.1 binary value ({@code 0x} hex, {@code 0b} base64); {@code null} if the value
     * is malformed or longer than {@link #MAX_BINARY_LENGTH} bytes.
     */
    public static byte[] decodeBinary(final String value) {
        if (value == null || value.length() < 3) {
            return null;
        }
        String prefix = value.substring(0, 2).toLowerCase(Locale.ROOT);
        String body = value.substring(2);
        try {
            byte[] out;
            if (prefix.equals(HEX_PREFIX)) {
                if (body.length() > 2 * MAX_BINARY_LENGTH) {
                    return null;
                }
                // §6.1: an odd number of hex digits means a leading zero nibble
                out = HexFormat.of().parseHex(body.length() % 2 == 0 ? body : "0" + body);
            } else if (prefix.equals(BASE64_PREFIX)) {
                out = Base64.getDecoder().decode(body);
            } else {
                return null;
            }
            return out.length <= MAX_BINARY_LENGTH ? out : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
