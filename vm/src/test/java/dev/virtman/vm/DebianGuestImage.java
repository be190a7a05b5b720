package dev.virtman.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The Debian 12 guest of {@code scripts/build-debian-guest}, for tests that boot it. Found in
 * {@code -Dvirtman.debianGuest=DIR}, {@code $VIRTMAN_DEBIAN_GUEST} or {@code work/debian12}; built
 * or brought up to date there first (root, Debian's mirror, a few minutes once; cached afterwards).
 */
record DebianGuestImage(Path dir) {

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);

    static synchronized DebianGuestImage get() {
        String configured = System.getProperty("virtman.debianGuest", System.getenv("VIRTMAN_DEBIAN_GUEST"));
        Path dir = Path.of(configured != null ? configured : "work/debian12").toAbsolutePath();
        DebianGuestImage g = new DebianGuestImage(dir);
        // Idempotent: well under a second when the image matches the script, a rebuild when not.
        HostCommand.run(List.of("scripts/build-debian-guest", dir.toString()), BUILD_TIMEOUT);
        if (!Files.isRegularFile(g.image())) {
            throw new IllegalStateException("scripts/build-debian-guest made no " + g.image());
        }
        return g;
    }

    Path image() {
        return dir.resolve("debian12.raw");
    }

    long imageSize() throws IOException {
        return Files.size(image());
    }

    BootSource.DirectKernel boot(final String extraAppend) throws IOException {
        String append = Files.readString(dir.resolve("append")).strip();
        return new BootSource.DirectKernel(dir.resolve("vmlinuz"), dir.resolve("initrd.img"),
                extraAppend.isEmpty() ? append : append + " " + extraAppend);
    }
}
