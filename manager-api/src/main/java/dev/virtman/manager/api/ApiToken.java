package dev.virtman.manager.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The bearer token of the REST API. Generated from {@link SecureRandom} at first start and stored
 * in the state directory with mode 0600, created with that mode so it is never readable by others,
 * not even for a moment.
 */
public final class ApiToken {

    /** 256 bits: far beyond guessing over HTTP. */
    private static final int TOKEN_BYTES = 32;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final byte[] token;

    private ApiToken(final String token) {
        this.token = token.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the token file, creating it with a fresh random token if it does not exist. */
    public static ApiToken loadOrCreate(final Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] raw = new byte[TOKEN_BYTES];
            new SecureRandom().nextBytes(raw);
            String fresh = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                Files.writeString(file, fresh + "\n");
                StateDir.fsync(file);
            } catch (FileAlreadyExistsException raced) {
                // Another process created it first; use theirs.
            }
        }
        return new ApiToken(read(file));
    }

    /** Reads a token written by {@link #loadOrCreate}. */
    public static String read(final Path file) throws IOException {
        String value = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (value.isEmpty()) {
            throw new IOException("token file is empty: " + file);
        }
        return value;
    }

    public String value() {
        return new String(token, StandardCharsets.US_ASCII);
    }

    /** Constant-time comparison, so response timing does not reveal a matching prefix. */
    public boolean matches(final String presented) {
        if (presented == null) {
            return false;
        }
        return MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.US_ASCII));
    }
}
