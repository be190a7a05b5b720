package dev.virtman.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Files committed under {@code src/test/resources} beside a test's package (e.g. bitmaps written
 * by an older release), copied out so a test can open, change or append to them.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** Copies the resource {@code name} of {@code owner}'s package into {@code dir}. */
    public static Path copy(final Class<?> owner, final String name, final Path dir) throws IOException {
        Path file = dir.resolve(name);
        try (InputStream in = owner.getResourceAsStream(name)) {
            if (in == null) {
                throw new NoSuchFileException(owner.getPackageName().replace('.', '/') + "/" + name
                        + " (test resource)");
            }
            Files.copy(in, file);
        }
        return file;
    }
}
