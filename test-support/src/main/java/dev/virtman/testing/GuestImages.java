package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The guest a test boots: Debian's cloud kernel and initramfs plus a small raw ext4 root
 * filesystem whose init verifies a data blob, prints {@link #UP_MARKER}, writes to its disk and
 * powers off. Built (once, cached under {@code work/guest/} in the repository) by
 * {@code scripts/build-guest}; see that script for what the guest does.
 *
 * @param kernel       the kernel image ({@code -kernel})
 * @param initrd       the initramfs ({@code -initrd})
 * @param rootfs       the raw root filesystem image, exported read-only by the targets under test
 * @param rootfsSha256 the image's SHA-256 as recorded when it was built
 */
public record GuestImages(Path kernel, Path initrd, Path rootfs, String rootfsSha256) {
    /** Printed by the guest's init after it read and verified its data blob. */
    public static final String UP_MARKER = "VIRTMAN-GUEST-UP";
    /** The up line when every byte of the data blob matched its hash. */
    public static final String UP_LINE_DATA_OK = UP_MARKER + " data=ok";
    /** Printed after the guest wrote and synced its files, just before it powers off. */
    public static final String DONE_MARKER = "VIRTMAN-GUEST-DONE";
    /** A file the guest writes to its root filesystem (the copy-on-write check reads it back). */
    public static final String WRITTEN_FILE = "/virtman-cow.txt";
    public static final String WRITTEN_TEXT = "written by the VirtMan test guest";

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
    private static GuestImages built;

    /** Builds the artifacts if they are missing or stale, and returns them. */
    public static synchronized GuestImages build() {
        if (built == null) {
            Path root = ProjectPaths.root();
            Path dir = root.resolve("work").resolve("guest");
            Commands.run(BUILD_TIMEOUT, root, List.of(root.resolve("scripts/build-guest").toString(), dir.toString()))
                    .requireSuccess();
            try {
                String sha = Files.readString(dir.resolve("rootfs.raw.sha256")).trim().split("\\s+")[0];
                built = new GuestImages(dir.resolve("vmlinuz"), dir.resolve("initrd.img"), dir.resolve("rootfs.raw"), sha);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return built;
    }
}
