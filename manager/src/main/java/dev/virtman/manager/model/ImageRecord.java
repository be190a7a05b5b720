package dev.virtman.manager.model;

import dev.virtman.manager.api.GlanceOrigin;
import java.time.Instant;

/**
 * A registered image, as persisted. The id is the manifest digest (the block layer's image id),
 * 64 hex digits; the API also accepts a unique prefix of it, or the name.
 *
 * @param glance where the image was imported from, or null for an image registered from a file
 */
public record ImageRecord(String id, String name, String path, ManifestSummary manifest, Instant registeredAt,
                          GlanceOrigin glance) {

    /** An image registered from a local file. */
    public ImageRecord(final String id, final String name, final String path, final ManifestSummary manifest,
                       final Instant registeredAt) {
        this(id, name, path, manifest, registeredAt, null);
    }

    public static String idFor(final ManifestSummary manifest) {
        return manifest.digest();
    }
}
