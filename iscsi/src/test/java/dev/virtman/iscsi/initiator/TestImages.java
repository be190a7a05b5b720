package dev.virtman.iscsi.initiator;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Seeded pseudo-random disk images and their SHA-256, for read-everything-and-compare tests. */
final class TestImages {

    private static final int BUFFER = 1 << 20;

    private TestImages() {
    }

    /** Writes {@code bytes} of seeded random data (every block distinct) to {@code file}. */
    static Path random(final Path file, final long bytes, final long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] buf = new byte[BUFFER];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long done = 0; done < bytes; done += buf.length) {
                for (int i = 0; i < buf.length; i += Long.BYTES) {
                    long v = random.nextLong();
                    for (int j = 0; j < Long.BYTES; j++) {
                        buf[i + j] = (byte) (v >>> (j * Byte.SIZE));
                    }
                }
                out.write(buf, 0, (int) Math.min(buf.length, bytes - done));
            }
        }
        return file;
    }

    static String sha256(final Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[BUFFER];
        try (var in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
