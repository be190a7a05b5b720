package dev.virtman.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Files of seeded random bytes: the same seed always writes the same content. */
public final class RandomFiles {
    private RandomFiles() {
    }

    /** Writes {@code size} bytes from {@code new Random(seed)} to {@code file} and returns it. */
    public static Path write(final Path file, final int size, final long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return Files.write(file, bytes);
    }
}
