package dev.virtman.openstack.glance;

import dev.virtman.openstack.glance.GlanceException.Kind;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * Checks a Glance download against what Glance recorded when the image was uploaded, while the
 * bytes stream past: the length ({@code size}), the "multihash" ({@code os_hash_algo} /
 * {@code os_hash_value}, SHA-512 by default since Glance Rocky) and the legacy MD5
 * {@code checksum}. Nothing is buffered: each piece updates the digests and is forgotten, so a
 * 100 GB image needs no more memory than a 1 MB one.
 *
 * <p>The recorded size bounds the stream: a server that sends more bytes than it recorded is
 * rejected at the first surplus byte, not after it filled the disk. {@link #finish()} then
 * rejects a short stream and any digest mismatch. The SHA-512 is the integrity check that
 * matters; MD5 is compared too because a mismatch there still means the bytes are not the
 * uploaded ones.
 */
public final class DownloadVerifier {

    /** Glance's {@code os_hash_algo} values (Python hashlib names) and their JDK digest names. */
    private static final Map<String, String> ALGORITHMS = Map.of(
            "sha512", "SHA-512", "sha384", "SHA-384", "sha256", "SHA-256", "sha224", "SHA-224",
            "sha3_512", "SHA3-512", "sha3_384", "SHA3-384", "sha3_256", "SHA3-256", "sha3_224", "SHA3-224");
    private static final String MD5 = "MD5";

    private final String imageId;
    private final long expectedSize;
    private final String hashAlgo;
    private final String expectedHash;
    private final String expectedChecksum;
    private final MessageDigest multihash;
    private final MessageDigest md5;
    private long received;

    private DownloadVerifier(final String imageId, final long expectedSize, final String hashAlgo,
                             final String expectedHash, final String expectedChecksum) {
        this.imageId = imageId;
        this.expectedSize = expectedSize;
        this.hashAlgo = hashAlgo;
        this.expectedHash = expectedHash;
        this.expectedChecksum = expectedChecksum;
        this.multihash = expectedHash == null ? null : digest(ALGORITHMS.get(hashAlgo));
        this.md5 = expectedChecksum == null ? null : digest(MD5);
    }

    /**
     * A verifier for {@code image}'s data.
     *
     * @throws GlanceException {@link Kind#UNSUPPORTED} if Glance recorded no size, no hash at
     *                         all, or a multihash algorithm the JDK lacks
     */
    public static DownloadVerifier expecting(final GlanceImage image) {
        if (image.size() == null || image.size() < 0) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + image.id() + " has no recorded size");
        }
        String algo = image.osHashAlgo() == null ? null : image.osHashAlgo().toLowerCase(Locale.ROOT);
        String hash = blankToNull(image.osHashValue());
        if (hash != null && !ALGORITHMS.containsKey(algo)) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + image.id() + " is hashed with os_hash_algo '"
                    + image.osHashAlgo() + "', which VirtMan cannot verify (supported: " + ALGORITHMS.keySet() + ")");
        }
        String checksum = blankToNull(image.checksum());
        if (hash == null && checksum == null) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + image.id()
                    + " has neither os_hash_value nor checksum: its download cannot be verified");
        }
        return new DownloadVerifier(image.id(), image.size(), algo,
                hash == null ? null : hash.toLowerCase(Locale.ROOT),
                checksum == null ? null : checksum.toLowerCase(Locale.ROOT));
    }

    /**
     * Accounts for the next {@code length} bytes of the download.
     *
     * @throws GlanceException {@link Kind#INTEGRITY} if they run past the recorded size
     */
    public void update(final byte[] bytes, final int offset, final int length) {
        if (length > expectedSize - received) {
            throw new GlanceException(Kind.INTEGRITY, "Glance image " + imageId + ": the download runs past the "
                    + expectedSize + " bytes Glance recorded; rejected");
        }
        received += length;
        if (multihash != null) {
            multihash.update(bytes, offset, length);
        }
        if (md5 != null) {
            md5.update(bytes, offset, length);
        }
    }

    /** Bytes accounted so far. */
    public long received() {
        return received;
    }

    /**
     * Ends the download: checks its length and digests.
     *
     * @throws GlanceException {@link Kind#INTEGRITY} naming every check that failed
     */
    public void finish() {
        StringBuilder failures = new StringBuilder();
        if (received != expectedSize) {
            failures.append("; size: received ").append(received).append(" bytes, Glance recorded ").append(expectedSize);
        }
        if (multihash != null) {
            String actual = HexFormat.of().formatHex(multihash.digest());
            if (!MessageDigest.isEqual(actual.getBytes(), expectedHash.getBytes())) {
                failures.append("; os_hash_value (").append(hashAlgo).append("): got ").append(actual)
                        .append(", Glance recorded ").append(expectedHash);
            }
        }
        if (md5 != null) {
            String actual = HexFormat.of().formatHex(md5.digest());
            if (!actual.equals(expectedChecksum)) {
                failures.append("; checksum (md5): got ").append(actual).append(", Glance recorded ")
                        .append(expectedChecksum);
            }
        }
        if (!failures.isEmpty()) {
            throw new GlanceException(Kind.INTEGRITY, "Glance image " + imageId
                    + ": downloaded data does not match what Glance recorded" + failures + "; rejected, nothing imported");
        }
    }

    /** Which checks this verifier makes, for logs ("size, sha512, md5"). */
    public String describe() {
        return "size" + (multihash != null ? ", " + hashAlgo : "") + (md5 != null ? ", md5" : "");
    }

    private static MessageDigest digest(final String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new GlanceException(Kind.UNSUPPORTED, "this JDK lacks " + name, e);
        }
    }

    private static String blankToNull(final String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
