package dev.virtman.block;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * Files only their owner may read: caches of images, volumes (a tenant's disk), manifests, the
 * manager's database, CHAP secrets and token. Directories are 0700 and files 0600 <em>whatever
 * existed before</em>: the process umask (usually 022) would otherwise make new files 0644, and a
 * directory made by an older release or by hand keeps its mode unless it is set again.
 *
 * <p>The directory is the real barrier: it is made 0700 before anything is created in it, so no
 * other user can open a file in the moment between its creation and its chmod. Symbolic links are
 * never followed (a chmod through a planted link would change a file elsewhere).
 */
public final class PrivateFiles {

    public static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private static final int STICKY = 01000;
    private static final int WORLD_WRITABLE = 02;

    private PrivateFiles() {
    }

    /** The attribute that creates a file 0600 (for {@code Files.createFile}, {@code FileChannel.open}). */
    public static FileAttribute<Set<PosixFilePermission>> ownerOnly() {
        return PosixFilePermissions.asFileAttribute(OWNER_FILE);
    }

    /**
     * Creates {@code dir} and its missing parents, each new one 0700, and makes {@code dir} itself
     * 0700 if it already existed. Parents that existed keep their mode (they may be shared, like
     * {@code /var/lib}).
     */
    public static Path createDirectories(final Path dir) throws IOException {
        requireNotShared(dir);
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.push(p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            } catch (FileAlreadyExistsException raced) {
                // created meanwhile (another thread); its mode is set below if it is the leaf
            }
            Files.setPosixFilePermissions(p, OWNER_DIR); // the umask may have masked the attribute
        }
        restrict(dir);
        return dir;
    }

    /**
     * Refuses to take over a directory other users share ({@code /tmp}: sticky or world-writable):
     * making it 0700 would break them, leaving it would expose what VirtMan keeps there.
     */
    private static void requireNotShared(final Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & (STICKY | WORLD_WRITABLE)) != 0) {
            throw new IOException("directory " + dir + " is shared with other users (mode "
                    + Integer.toOctalString(mode & 07777) + "); give VirtMan a directory of its own");
        }
    }

    /** Creates {@code file} (0600) if missing, else makes it 0600; returns it. */
    public static Path createFile(final Path file) throws IOException {
        try {
            Files.createFile(file, ownerOnly());
        } catch (FileAlreadyExistsException e) {
            // an earlier run's file: keep its contents, fix its mode
        }
        restrict(file);
        return file;
    }

    /** Makes a file 0600 or a directory 0700; a symbolic link or a missing path is left alone. */
    public static void restrict(final Path path) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (attrs.isDirectory()) {
            Files.setPosixFilePermissions(path, OWNER_DIR);
        } else if (attrs.isRegularFile()) {
            Files.setPosixFilePermissions(path, OWNER_FILE);
        }
    }

    /**
     * Makes {@code root} and everything under it private: directories 0700 (each before its
     * contents), regular files 0600; links are not followed. For start-up over state an older
     * release, or an operator, left readable.
     */
    public static void secureTree(final Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(final Path dir, final BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(dir, OWNER_DIR);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    Files.setPosixFilePermissions(file, OWNER_FILE);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
