package dev.virtman.iscsi.initiator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The initiator's side of CHAP (RFC 1994 §4.1 as profiled by RFC 7143 §12.1.3): answers the
 * target's challenge and, for mutual CHAP, makes a challenge of its own and checks the answer.
 * Binary values use the §6.1 encodings ({@code 0x} hex or {@code 0b} base64).
 */
final class ChapResponder {

    /** CHAP_A value 5 = MD5, the algorithm every implementation supports (§12.1.3). */
    static final String ALGORITHM_MD5 = "5";
    /** Our mutual-CHAP challenge length: 16 bytes, MD5's output size. */
    static final int CHALLENGE_LENGTH = 16;
    /** Longest challenge we accept from a target (RFC 7143 §12.1.3 sets no limit; 1024 is generous). */
    static final int MAX_BINARY_LENGTH = 1024;
    /** CHAP identifiers are one octet (RFC 1994 §4.1). */
    static final int MAX_IDENTIFIER = 0xff;

    private static final String HEX = "0x";
    private static final String BASE64 = "0b";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ChapResponder() {
    }

    /** MD5(identifier || secret || challenge) (RFC 1994 §4.1). */
    static byte[] response(final int identifier, final String secret, final byte[] challenge) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update((byte) identifier);
            md5.update(secret.getBytes(StandardCharsets.UTF_8));
            md5.update(challenge);
            return md5.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always provides MD5", e);
        }
    }

    /** A fresh random challenge for mutual CHAP. */
    static byte[] newChallenge() {
        byte[] c = new byte[CHALLENGE_LENGTH];
        RANDOM.nextBytes(c);
        return c;
    }

    /** A fresh random identifier for mutual CHAP. */
    static int newIdentifier() {
        return RANDOM.nextInt(MAX_IDENTIFIER + 1);
    }

    /** Whether the target's mutual-CHAP answer is right, compared in constant time. */
    static boolean verify(final int identifier, final String secret, final byte[] challenge, final byte[] answer) {
        return MessageDigest.isEqual(response(identifier, secret, challenge), answer);
    }

    static String encode(final byte[] bytes) {
        return HEX + HexFormat.of().formatHex(bytes);
    }

    /** Decodes a §6.1 binary value, or {@code null} if malformed or longer than {@link #MAX_BINARY_LENGTH}. */
    static byte[] decode(final String value) {
        if (value == null || value.length() < HEX.length() + 1) {
            return null;
        }
        String prefix = value.substring(0, HEX.length()).toLowerCase(Locale.ROOT);
        String body = value.substring(HEX.length());
        try {
            byte[] bytes;
            if (prefix.equals(HEX)) {
                if (body.length() > 2 * MAX_BINARY_LENGTH) {
                    return null;
                }
                bytes = HexFormat.of().parseHex(body.length() % 2 == 0 ? body : "0" + body);
            } else if (prefix.equals(BASE64)) {
                if (body.length() > 2 * MAX_BINARY_LENGTH) {
                    return null;
                }
                bytes = Base64.getDecoder().decode(body);
            } else {
                return null;
            }
            return bytes.length <= MAX_BINARY_LENGTH ? bytes : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
