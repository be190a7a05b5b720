package dev.virtman.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code qemu-img} commands the interop tests drive against {@code iscsi://} URLs (QEMU's
 * libiscsi block driver, Debian package qemu-block-extra).
 */
public final class QemuImg {
    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    private QemuImg() {
    }

    /** {@code qemu-img info --output=json SOURCE}. */
    public static Commands.Result info(final String source) {
        return run("info", "--output=json", source);
    }

    /** {@code qemu-img convert -O raw SOURCE DEST}: reads every block of the source. */
    public static Commands.Result convertToRaw(final String source, final Path dest) {
        return run("convert", "-O", "raw", source, dest.toString());
    }

    /** {@code qemu-img convert -O raw -f qcow2 SOURCE DEST}: flattens an overlay with its backing chain. */
    public static Commands.Result flattenQcow2(final Path overlay, final Path dest) {
        return run("convert", "-f", "qcow2", "-O", "raw", overlay.toString(), dest.toString());
    }

    /** {@code qemu-img compare -f raw -F raw A B}: exit 0 when the contents are identical, 1 when not. */
    public static Commands.Result compareRaw(final String a, final String b) {
        return run("compare", "-f", "raw", "-F", "raw", a, b);
    }

    /** {@code qemu-img create -f qcow2 -F raw -b BACKING OVERLAY}: a copy-on-write overlay over a raw image. */
    public static Commands.Result createOverlay(final String backing, final Path overlay) {
        return run("create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing, overlay.toString());
    }

    private static Commands.Result run(final String... args) {
        List<String> command = new java.util.ArrayList<>();
        command.add("qemu-img");
        command.addAll(List.of(args));
        return Commands.run(TIMEOUT, null, command);
    }
}
