package dev.virtman.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository is, for tests that run its scripts or cache artifacts under {@code work/}. */
public final class ProjectPaths {
    private ProjectPaths() {
    }

    /** The nearest directory at or above the working directory (Maven's basedir) with a pom.xml. */
    public static Path root() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("scripts"))) {
                return p;
            }
        }
        throw new IllegalStateException("not inside the VirtMan repository: " + dir);
    }
}
