package dev.virtman.openstack.glance;

import dev.virtman.block.PrivateFiles;
import dev.virtman.openstack.glance.GlanceException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * Brings one Glance image onto local disk as a verified raw file, the form the manager registers
 * and the source target exports.
 *
 * <ol>
 *   <li>{@link #describe}: the image record; only active, bare raw or qcow2 images are taken.</li>
 *   <li>{@link #fetch}: streams the data through a {@link DownloadVerifier} into a hidden
 *       {@code .download} file in the destination directory, 1 MiB at a time (memory does not
 *       grow with the image); all-zero pieces are skipped, so the file stays sparse like the
 *       image. Only when size, {@code os_hash_value} and {@code checksum} match is it converted
 *       (qcow2, {@link Qcow2Converter}) and renamed to its final name.</li>
 * </ol>
 *
 * Any failure deletes what was written: a rejected import leaves nothing behind.
 */
public final class GlanceImporter {

    /** Transfer buffer: large enough for streaming throughput, small enough not to matter. */
    private static final int BUFFER_BYTES = 1 << 20;
    /** Zero runs are skipped in pieces of this size (the smallest manifest chunk). */
    private static final int ZERO_SCAN_BYTES = 4 << 10;
    private static final byte[] ZEROS = new byte[ZERO_SCAN_BYTES];
    private static final Set<String> DISK_FORMATS = Set.of(GlanceImage.RAW, GlanceImage.QCOW2);
    /** Hex digits of the data hash in a file name: enough to tell versions apart. */
    private static final int NAME_HASH_DIGITS = 16;

    /** Where an import reports how far it got. */
    public interface Progress {
        /** {@code bytes} of {@code total} received and verified so far. */
        void downloaded(long bytes, long total);

        /** A step ("converting qcow2 to raw"). */
        void note(String line);

        Progress NONE = new Progress() {
            @Override
            public void downloaded(final long bytes, final long total) {
            }

            @Override
            public void note(final String line) {
            }
        };
    }

    private final GlanceClient glance;
    private final Qcow2Converter converter;

    public GlanceImporter(final GlanceClient glance, final Qcow2Converter converter) {
        this.glance = glance;
        this.converter = converter;
    }

    public GlanceClient glance() {
        return glance;
    }

    /**
     * The image's record, checked to be importable.
     *
     * @throws GlanceException {@link Kind#UNSUPPORTED} for an image that is not active, not a
     *                         bare raw/qcow2 disk, or has no verifiable hash
     */
    public GlanceImage describe(final String imageId) {
        GlanceImage image = glance.image(imageId);
        if (!image.isActive()) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + imageId + " is '" + image.status()
                    + "', not active: its data is not (fully) uploaded");
        }
        String disk = image.diskFormat() == null ? "" : image.diskFormat().toLowerCase(Locale.ROOT);
        if (!DISK_FORMATS.contains(disk)) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + imageId + " has disk_format '"
                    + image.diskFormat() + "'; VirtMan imports " + DISK_FORMATS);
        }
        if (image.containerFormat() != null && !GlanceImage.BARE.equalsIgnoreCase(image.containerFormat())) {
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + imageId + " has container_format '"
                    + image.containerFormat() + "'; VirtMan imports bare disk images");
        }
        DownloadVerifier.expecting(image); // fails now, not after the download, if it cannot be verified
        return image;
    }

    /** The final file name of an image's raw data: Glance id plus a hash prefix, one per version. */
    public static String fileName(final GlanceImage image) {
        String hash = image.osHashValue() != null ? image.osHashValue() : image.checksum();
        return "glance-" + image.id().toLowerCase(Locale.ROOT) + "-"
                + hash.substring(0, Math.min(NAME_HASH_DIGITS, hash.length())).toLowerCase(Locale.ROOT) + ".raw";
    }

    /**
     * Downloads, verifies and (for qcow2) converts {@code image} into {@code dir}.
     *
     * @return the raw file, {@code dir/}{@link #fileName}
     * @throws GlanceException {@link Kind#INTEGRITY} if the data does not match Glance's record;
     *                         nothing is left in {@code dir} after any failure
     */
    public Path fetch(final GlanceImage image, final Path dir, final Progress progress) {
        String name = fileName(image);
        Path target = dir.resolve(name);
        Path download = null;
        Path converted = null;
        try {
            PrivateFiles.createDirectories(dir);
            // Unique hidden names (created 0600): two imports of the same image into one directory never share a file.
            download = Files.createTempFile(dir, "." + name + ".", ".download");
            converted = Files.createTempFile(dir, "." + name + ".", ".partial");
            DownloadVerifier verifier = DownloadVerifier.expecting(image);
            progress.note("downloading Glance image " + image.id() + " (" + image.size() + " bytes, "
                    + image.diskFormat() + "), verifying " + verifier.describe());
            download(image, verifier, download, progress);
            verifier.finish();
            if (GlanceImage.QCOW2.equalsIgnoreCase(image.diskFormat())) {
                progress.note("converting qcow2 to raw with qemu-img");
                Files.delete(converted); // qemu-img creates its output itself
                converter.toRaw(download, converted);
                // qemu-img creates its output with the process umask (0644): private like the download.
                Files.setPosixFilePermissions(converted, PosixFilePermissions.fromString("rw-------"));
                Files.delete(download);
            } else {
                Files.move(download, converted, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(converted, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new GlanceException(Kind.LOCAL, "cannot write Glance image " + image.id() + " to " + dir + ": "
                    + e.getMessage(), e);
        } finally {
            deleteQuietly(download);
            deleteQuietly(converted);
        }
    }

    private void download(final GlanceImage image, final DownloadVerifier verifier, final Path file,
                          final Progress progress) throws IOException {
        byte[] buffer = new byte[BUFFER_BYTES];
        try (InputStream in = glance.openData(image.id());
             RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(0);
            FileChannel channel = out.getChannel();
            long position = 0;
            int n;
            while ((n = in.readNBytes(buffer, 0, buffer.length)) > 0) {
                verifier.update(buffer, 0, n);
                writeSparse(channel, buffer, n, position);
                position += n;
                progress.downloaded(position, image.size());
            }
            out.setLength(position);
            channel.force(true);
        }
    }

    /** Writes {@code length} bytes at {@code position}, leaving all-zero 4 KiB pieces as holes. */
    private static void writeSparse(final FileChannel channel, final byte[] bytes, final int length, final long position)
            throws IOException {
        int start = 0;
        while (start < length) {
            int end = Math.min(start + ZERO_SCAN_BYTES, length);
            if (!allZero(bytes, start, end)) {
                ByteBuffer piece = ByteBuffer.wrap(bytes, start, end - start);
                long at = position + start;
                while (piece.hasRemaining()) {
                    at += channel.write(piece, at);
                }
            }
            start = end;
        }
    }

    private static boolean allZero(final byte[] bytes, final int from, final int to) {
        return Arrays.mismatch(bytes, from, to, ZEROS, 0, to - from) < 0;
    }

    private static void deleteQuietly(final Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover hidden file is harmless: later imports use fresh names
        }
    }
}
