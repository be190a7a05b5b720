package dev.virtman.manager;

import java.time.Instant;

/**
 * A registered image, as persisted. The id is the manifest digest (the block layer's image id),
 * 64 hex digits; the API also accepts a unique prefix of it, or the name.
 */
public record ImageRecord(String id, String name, String path, ManifestSummary manifest, Instant registeredAt) {

    public static String idFor(final ManifestSummary manifest) {
        return manifest.digest();
    }
}
