package dev.virtman.boot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Turns a user's image into what the source exports: a raw file. qcow2 images are converted
 * once with {@code qemu-img convert} (VirtMan's chunk manifest and lazy fetch work on raw bytes);
 * raw images are used in place.
 */
public final class ImagePreparer {
    private static final byte[] QCOW_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

    private ImagePreparer() {
    }

    public static Path toRaw(final Path image, final Path convertedDir, final ProgressSink progress) throws IOException {
        if (!Files.isRegularFile(image)) {
            throw new BootException(image + ": no such image file");
        }
        if (!isQcow2(image)) {
            return image.toAbsolutePath();
        }
        Files.createDirectories(convertedDir);
        Path raw = convertedDir.resolve(nameOf(image) + ".raw");
        if (Files.exists(raw) && Files.getLastModifiedTime(raw).compareTo(Files.getLastModifiedTime(image)) >= 0) {
            return raw;
        }
        progress.note("converting qcow2 image " + image + " to raw (once): " + raw);
        Path tmp = convertedDir.resolve(nameOf(image) + ".raw.tmp");
        DemoImage.run(List.of("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), tmp.toString()));
        Files.move(tmp, raw, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return raw;
    }

    static boolean isQcow2(final Path image) throws IOException {
        try (InputStream in = Files.newInputStream(image)) {
            return Arrays.equals(in.readNBytes(QCOW_MAGIC.length), QCOW_MAGIC);
        }
    }

    /** A manager-friendly image name from a file name: lower case, [a-z0-9.-], no extension. */
    public static String nameOf(final Path image) {
        String file = image.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = file.lastIndexOf('.');
        String base = dot > 0 ? file.substring(0, dot) : file;
        String clean = base.replaceAll("[^a-z0-9.-]+", "-").replaceAll("^[^a-z0-9]+", "");
        return clean.isEmpty() ? "image" : clean;
    }

    public static void deleteTree(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
