package dev.virtman.boot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo guest {@code virtman boot} uses when no image is given: Debian's cloud kernel and
 * initramfs plus a small busybox root filesystem, built from Debian packages by
 * {@code scripts/build-guest}, then grown to {@value #DEMO_IMAGE_MIB} MiB with {@code resize2fs}
 * so the image has the proportions of a real one (a boot reads a few percent of it).
 */
public final class DemoImage {

    /**
     * Kernel command line for the demo guest (and the default for {@code --kernel}).
     * no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail and
     * panic; the check means nothing in a VM.
     */
    public static final String KERNEL_APPEND = "root=/dev/vda rw console=ttyS0 quiet panic=-1 no_timer_check";

    /** Size of the demo disk; the guest reads about 25 MiB of it while booting. */
    static final int DEMO_IMAGE_MIB = 1024;
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);

    private DemoImage() {
    }

    /** Kernel, initramfs and raw root filesystem of a guest whose init prints the up marker. */
    public record Guest(Path kernel, Path initrd, Path image) {
    }

    /** The project's home: where {@code scripts/} lives (the launcher passes it as virtman.home). */
    public static Path home() {
        String prop = System.getProperty("virtman.home");
        Path home = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        if (!Files.isExecutable(home.resolve("scripts/build-guest"))) {
            throw new BootException("cannot find scripts/build-guest under " + home
                    + "; run virtman through the ./virtman launcher, or pass --image with --kernel/--initrd");
        }
        return home;
    }

    /** Builds (once; later calls reuse it) the demo guest under {@code workDir/demo}. */
    public static Guest ensure(final Path workDir, final ProgressSink progress) {
        Path home = home();
        Path guestDir = workDir.resolve("guest");
        Path demo = workDir.resolve("demo.raw");
        try {
            Files.createDirectories(workDir);
            progress.note("building the demo guest (Debian cloud kernel + busybox root filesystem)...");
            run(List.of(home.resolve("scripts/build-guest").toString(), guestDir.toString()));
            Path rootfs = guestDir.resolve("rootfs.raw");
            if (!Files.exists(demo) || Files.getLastModifiedTime(demo).compareTo(Files.getLastModifiedTime(rootfs)) < 0) {
                Path tmp = workDir.resolve("demo.raw.tmp");
                Files.copy(rootfs, tmp, StandardCopyOption.REPLACE_EXISTING);
                run(List.of("truncate", "-s", DEMO_IMAGE_MIB + "M", tmp.toString()));
                run(List.of("e2fsck", "-fy", tmp.toString()));
                run(List.of("resize2fs", tmp.toString()));
                Files.move(tmp, demo, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return new Guest(guestDir.resolve("vmlinuz"), guestDir.resolve("initrd.img"), demo);
        } catch (IOException e) {
            throw new BootException("cannot prepare the demo image in " + workDir + ": " + e.getMessage(), e);
        }
    }

    static void run(final List<String> command) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        byte[] out;
        try {
            boolean done = p.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            out = p.getInputStream().readNBytes(64 * 1024);
            if (!done) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + BUILD_TIMEOUT);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        // e2fsck exits 1 when it fixed something, which is fine for a fresh copy.
        if (p.exitValue() != 0 && !(command.get(0).equals("e2fsck") && p.exitValue() == 1)) {
            throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n"
                    + new String(out, java.nio.charset.StandardCharsets.UTF_8).strip());
        }
    }
}
