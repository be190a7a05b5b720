package dev.virtman.manager.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Secrets come from files (or the environment), never from the command line, where every local
 * user reads them in {@code ps}. Reading refuses a file others can read, as ssh does for keys
 * (group-readable is allowed: {@code root:cinder 0640} is how a service is given a secret);
 * writing creates the file with mode 0600 from the start, then renames it into place, so the
 * secret is never readable by others, not even for a moment, and never half-written.
 */
public final class TokenFiles {

    /** Longest token accepted from a file: ours are 47 characters; this only stops a wrong file. */
    private static final int MAX_TOKEN_CHARS = 4096;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private TokenFiles() {
    }

    /**
     * The token in {@code file}, stripped of surrounding white space.
     *
     * @throws IOException if it is missing, empty, too long, or readable by others
     */
    public static String read(final Path file) throws IOException {
        checkMode(file);
        String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (token.isEmpty()) {
            throw new IOException("token file " + file + " is empty");
        }
        if (token.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            throw new IOException("token file " + file + " holds more than one token (white space or control characters)");
        }
        return token;
    }

    /** Refuses a missing file, one others can read, or one larger than a secret. */
    private static void checkMode(final Path file) throws IOException {
        Set<PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(file);
        } catch (NoSuchFileException e) {
            throw new IOException("token file " + file + " does not exist", e);
        } catch (UnsupportedOperationException e) {
            mode = Set.of();
        }
        if (mode.contains(PosixFilePermission.OTHERS_READ)) {
            throw new IOException("token file " + file + " is readable by every user (mode "
                    + PosixFilePermissions.toString(mode) + "): chmod 600 it");
        }
        if (Files.size(file) > MAX_TOKEN_CHARS) {
            throw new IOException("token file " + file + " is larger than a token (" + Files.size(file) + " bytes)");
        }
    }

    /**
     * A secret that may contain spaces (a password) from {@code file}: its first line, with the
     * same checks as {@link #read} except for white space inside.
     */
    public static String readSecret(final Path file) throws IOException {
        checkMode(file);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        String line = (end < 0 ? text : text.substring(0, end)).replace("\r", "");
        if (line.isEmpty()) {
            throw new IOException("secret file " + file + " is empty");
        }
        return line;
    }

    /** The token in {@code file}, or null if there is no such file. */
    public static String readIfPresent(final Path file) throws IOException {
        return Files.exists(file) ? read(file) : null;
    }

    /** Writes {@code token} to {@code file} with mode 0600, atomically (a crash leaves the old file or the new). */
    public static void write(final Path file, final String token) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
