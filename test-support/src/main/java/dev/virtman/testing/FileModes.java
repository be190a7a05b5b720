package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Modes of files as {@code ls -l} shows them, for tests of who may read what. */
public final class FileModes {

    private FileModes() {
    }

    /** {@code rwxr-xr-x} style mode of {@code path} (not following a link). */
    public static String mode(final Path path) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sets {@code path}'s mode ({@code rwxr-xr-x} style). */
    public static void chmod(final Path path, final String mode) {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code text} to {@code file} readable by its owner only, as the commands demand of secret files. */
    public static Path writePrivate(final Path file, final String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        chmod(file, "rw-------");
        return file;
    }

    /** Makes everything under {@code root} world-readable, as an older release or {@code cp -r} left it. */
    public static void loosen(final Path root) {
        for (Path p : walk(root)) {
            chmod(p, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "rwxr-xr-x" : "rw-r--r--");
        }
    }

    /** {@code "path mode"} for every directory and regular file under {@code root} that is not private. */
    public static List<String> notPrivate(final Path root) {
        List<String> loose = new ArrayList<>();
        for (Path p : walk(root)) {
            boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            String want = dir ? "rwx------" : "rw-------";
            if ((dir || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) && !mode(p).equals(want)) {
                loose.add(root.relativize(p) + " " + mode(p));
            }
        }
        return loose;
    }

    private static List<Path> walk(final Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !Files.isSymbolicLink(p)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
