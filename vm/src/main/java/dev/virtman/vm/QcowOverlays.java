package dev.virtman.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Creates and inspects qcow2 copy-on-write overlays with {@code qemu-img}. An overlay is how each
 * VM gets a private writable disk over the one read-only base image that VirtMan distributes:
 * reads of unwritten clusters go to the backing image, writes stay in the overlay.
 *
 * <p>The backing is raw (never probed: a probed format is a security hole, and VirtMan exports a raw
 * LUN). It is a local path or a QEMU block URL such as
 * {@code iscsi://127.0.0.1:3260/iqn.2026-11.dev.virtman:img/1} (needs {@code qemu-block-extra}).
 * Without an explicit size {@code qemu-img create} opens the backing image to read its size, so a
 * backing that is not reachable fails here, at creation, and not later at boot.
 */
public final class QcowOverlays {

    private static final Duration QEMU_IMG_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private QcowOverlays() {
    }

    /** What {@code qemu-img info} says about an overlay. */
    public record OverlayInfo(String format, long virtualSizeBytes, Optional<String> backingFile,
                              Optional<String> backingFormat) {
    }

    /** QEMU's iSCSI URL for one LUN of a target (the libiscsi block driver). */
    public static String iscsiUrl(final String host, final int port, final String targetIqn, final int lun) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (lun < 0) {
            throw new IllegalArgumentException("LUN must be >= 0: " + lun);
        }
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        return "iscsi://" + hostPart + ":" + port + "/" + targetIqn + "/" + lun;
    }

    /**
     * Creates {@code overlay} over raw {@code backing}. With {@code sizeBytes} present qemu-img does not
     * open the backing image ({@code -u}: a qemu-img given only the size still opens it, to check
     * it); otherwise it does, reads the size from it, and an unreachable backing fails now.
     */
    public static void create(final Path overlay, final String backing, final OptionalLong sizeBytes) {
        if (Files.exists(overlay)) {
            throw new VmException("overlay " + overlay + " already exists; refusing to overwrite a VM's disk");
        }
        String backingRef = isUrl(backing) ? backing : Path.of(backing).toAbsolutePath().normalize().toString();
        if (!isUrl(backing) && !Files.isReadable(Path.of(backingRef))) {
            throw new VmException("backing image " + backingRef + " does not exist or is not readable");
        }
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                "-b", backingRef));
        if (sizeBytes.isPresent()) {
            cmd.add("-u"); // "unsafe": with the size given, do not open the backing image at all
        }
        cmd.add(overlay.toString());
        sizeBytes.ifPresent(size -> cmd.add(Long.toString(size)));
        try {
            HostCommand.run(cmd, QEMU_IMG_TIMEOUT);
        } catch (VmException e) {
            throw new VmException("cannot create overlay " + overlay + " over " + backingRef + ": " + e.getMessage(), e);
        }
    }

    /** Reads an overlay's format, size and backing file ({@code qemu-img info --output=json}). */
    public static OverlayInfo info(final Path overlay) {
        // -U: read even while a running QEMU holds the image's write lock.
        String json = HostCommand.run(List.of("qemu-img", "info", "-U", "--output=json", overlay.toString()),
                QEMU_IMG_TIMEOUT);
        try {
            JsonNode n = JSON.readTree(json);
            return new OverlayInfo(n.path("format").asText(), n.path("virtual-size").asLong(),
                    text(n, "backing-filename"), text(n, "backing-filename-format"));
        } catch (IOException e) {
            throw new VmException("unreadable qemu-img info output for " + overlay + ": " + e.getMessage(), e);
        }
    }

    private static Optional<String> text(final JsonNode n, final String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }

    private static boolean isUrl(final String backing) {
        return backing.contains("://") || backing.startsWith("nbd+unix:");
    }
}
