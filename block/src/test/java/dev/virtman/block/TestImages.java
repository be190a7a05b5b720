package dev.virtman.block;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Random raw images for tests: reproducible from a seed, with some zero runs like a real disk. */
public final class TestImages {
    private static final int ZERO_RUN_EVERY = 7;

    private TestImages() {
    }

    public static Path create(final Path file, final long size, final long seed) throws IOException {
        Random random = new Random(seed);
        byte[] bytes = new byte[Math.toIntExact(size)];
        random.nextBytes(bytes);
        // Zero a few 8 KiB runs: sparse regions must verify and cache like any other data.
        int run = 8192;
        for (int off = 0; off + run <= bytes.length; off += run * ZERO_RUN_EVERY) {
            java.util.Arrays.fill(bytes, off, off + run, (byte) 0);
        }
        Files.write(file, bytes);
        return file;
    }
}
