package dev.virtman.manager;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.StateDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where image files may be ({@code virtman manager --image-dir DIR}, repeatable, plus the state
 * directory's {@code images/}, where Glance imports land). The manager reads and, with
 * {@code --serve-source}, exports any registered image to the network, so a path a client names
 * must not reach the manager's own database, token or CHAP secrets ({@code volumes.db}), nor any
 * other file the manager's user can read ({@code /etc/shadow} for root).
 *
 * <p>Files inside the state directory are refused unless under its {@code images/}, whatever
 * directories are configured. Checked on the real path (symlinks resolved, {@code ..} gone), so a link placed in an image
 * directory does not lead out of it; and a file that is one of the state directory's own files
 * under another name (a hard link) is refused by file identity. The real path is what gets
 * registered, and the source target checks it again each time it opens the file.
 */
public final class ImageDirectories {

    private final StateDir state;
    private final List<Path> directories;

    /**
     * @param state the manager's state directory ({@code images/} under it is always included)
     * @param extra the operator's {@code --image-dir}s (absolute). One may contain the state
     *              directory (a home directory): files inside the state directory other than its
     *              {@code images/} are refused whatever the image directories are
     * @throws IllegalArgumentException for a relative directory
     */
    public ImageDirectories(final StateDir state, final List<Path> extra) {
        this.state = Objects.requireNonNull(state, "state");
        Set<Path> dirs = new LinkedHashSet<>();
        dirs.add(state.images());
        for (Path dir : extra) {
            if (!dir.isAbsolute()) {
                throw new IllegalArgumentException("image directory " + dir + " must be an absolute path");
            }
            Path d = dir.normalize();
            dirs.add(d);
        }
        this.directories = List.copyOf(dirs);
    }

    /** Only the state directory's {@code images/}. */
    public static ImageDirectories of(final StateDir state) {
        return new ImageDirectories(state, List.of());
    }

    public List<Path> directories() {
        return directories;
    }

    /**
     * The real path of a client-named image file, if it is a readable regular file under an image
     * directory.
     *
     * @throws ManagerException (422) saying why it is not
     */
    public Path requireImageFile(final String path) {
        if (path == null || path.isBlank()) {
            throw ManagerException.invalid("path is required");
        }
        InputRules.requireText("path", path);
        Path file;
        try {
            file = Path.of(path);
        } catch (InvalidPathException e) {
            throw ManagerException.invalid("path " + InputRules.quoted(path) + " is not a valid path: " + e.getReason());
        }
        if (!file.isAbsolute()) {
            throw ManagerException.invalid("path must be absolute (it is read by the manager): " + path);
        }
        Path real;
        try {
            real = file.toRealPath();
        } catch (IOException e) {
            throw ManagerException.invalid("not a readable regular file: " + path);
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS) || !Files.isReadable(real)) {
            throw ManagerException.invalid("not a readable regular file: " + path);
        }
        if (!underAnImageDirectory(real)) {
            throw ManagerException.invalid("image file " + path + (real.toString().equals(path) ? "" : " (really " + real + ")")
                    + " is not under an image directory " + directories + " (virtman manager --image-dir)");
        }
        if (isStateFile(real)) {
            throw ManagerException.invalid("image file " + path + " is one of the manager's own state files");
        }
        return real;
    }

    /** Whether {@code real} (a real path) lies strictly inside one of the image directories, as they resolve now. */
    private boolean underAnImageDirectory(final Path real) {
        Path realState = realOrNull(state.path());
        if (realState != null && real.startsWith(realState)) {
            Path realImages = realOrNull(state.images());
            if (realImages == null || !real.startsWith(realImages)) {
                return false;
            }
        }
        for (Path dir : directories) {
            Path realDir = realOrNull(dir);
            if (realDir != null && real.startsWith(realDir) && !real.equals(realDir)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code real} is the same file (device and inode) as a file of the state directory. */
    private boolean isStateFile(final Path real) {
        Object key = fileKey(real);
        if (key == null) {
            return false;
        }
        List<Path> own = new ArrayList<>();
        try (var files = Files.list(state.path())) {
            files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).forEach(own::add);
        } catch (IOException e) {
            return false;
        }
        return own.stream().anyMatch(f -> key.equals(fileKey(f)));
    }

    private static Object fileKey(final Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static Path realOrNull(final Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return null;
        }
    }
}
