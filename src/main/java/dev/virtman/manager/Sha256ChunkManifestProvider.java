package dev.virtman.manager;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Interim manifest provider: SHA-256 per fixed-size chunk, stored as a JSON file named after the
 * manifest digest. The manifest digest is SHA-256 over (size, chunk size, every chunk hash), so
 * two registrations of identical content get the same id. To be replaced by the block layer's
 * ManifestBuilder once it lands (same interface).
 *
 * <p>The file is written to a temporary name, fsynced and renamed, so a crash never leaves a
 * truncated manifest under the final name.
 */
public final class Sha256ChunkManifestProvider implements ManifestProvider {

    public static final int DEFAULT_CHUNK_SIZE = 1 << 20;
    private static final int MIN_CHUNK_SIZE = 4096;
    private static final int MAX_CHUNK_SIZE = 64 << 20;

    private final int chunkSize;
    private final ObjectMapper json = new ObjectMapper();

    public Sha256ChunkManifestProvider(final int chunkSize) {
        if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two in "
                    + MIN_CHUNK_SIZE + ".." + MAX_CHUNK_SIZE + ", got " + chunkSize);
        }
        this.chunkSize = chunkSize;
    }

    @Override
    public ManifestSummary build(final Path image, final Path manifestDir) throws IOException {
        MessageDigest chunkDigest = sha256();
        MessageDigest manifestDigest = sha256();
        long size = Files.size(image);
        manifestDigest.update(longBytes(size));
        manifestDigest.update(longBytes(chunkSize));
        List<String> hashes = new ArrayList<>();
        byte[] buf = new byte[chunkSize];
        try (InputStream in = Files.newInputStream(image)) {
            int n;
            while ((n = in.readNBytes(buf, 0, chunkSize)) > 0) {
                chunkDigest.update(buf, 0, n);
                byte[] hash = chunkDigest.digest();
                manifestDigest.update(hash);
                hashes.add(HexFormat.of().formatHex(hash));
            }
        }
        String digest = HexFormat.of().formatHex(manifestDigest.digest());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format", "virtman-manifest-v0");
        doc.put("digest", digest);
        doc.put("sizeBytes", size);
        doc.put("chunkSize", chunkSize);
        doc.put("chunks", hashes);
        Files.createDirectories(manifestDir);
        Path target = manifestDir.resolve(digest + ".json");
        Path tmp = Files.createTempFile(manifestDir, digest, ".tmp");
        try {
            Files.write(tmp, json.writeValueAsBytes(doc));
            StateDir.fsync(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            StateDir.fsync(manifestDir);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return new ManifestSummary(digest, size, chunkSize, hashes.size(), target.toString());
    }

    @Override
    public void delete(final String manifestRef) throws IOException {
        Files.deleteIfExists(Path.of(manifestRef));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static byte[] longBytes(final long v) {
        return java.nio.ByteBuffer.allocate(Long.BYTES).putLong(v).array();
    }
}
