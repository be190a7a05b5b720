package dev.virtman.manager;

import java.time.Instant;

/** A registered image, as persisted. The id is a prefix of the manifest digest. */
public record ImageRecord(String id, String name, String path, ManifestSummary manifest, Instant registeredAt) {

    /** Hex digits of the manifest digest used as id: 64 bits, ample for one manager's images. */
    public static final int ID_HEX_DIGITS = 16;

    public static String idFor(final ManifestSummary manifest) {
        return manifest.digest().substring(0, ID_HEX_DIGITS);
    }
}
