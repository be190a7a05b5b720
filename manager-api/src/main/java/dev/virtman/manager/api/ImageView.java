package dev.virtman.manager.api;

/**
 * An image as the API shows it.
 *
 * @param id          content-derived id (prefix of the manifest digest), used in IQNs
 * @param manifestRef where the chunk manifest is stored (opaque to clients)
 * @param sourceIqn   the source target's IQN for this image
 * @param hosts       hosts currently in this image's tree
 * @param glance      origin of an image imported from Glance, else null
 */
public record ImageView(String id, String name, String path, long sizeBytes, int chunkSize, long chunkCount,
                        String manifestDigest, String manifestRef, String sourceIqn, String registeredAt,
                        int hosts, boolean hasBootProfile, GlanceOrigin glance) {

    /** A view of an image registered from a file (no Glance origin). */
    public ImageView(final String id, final String name, final String path, final long sizeBytes, final int chunkSize,
                     final long chunkCount, final String manifestDigest, final String manifestRef,
                     final String sourceIqn, final String registeredAt, final int hosts, final boolean hasBootProfile) {
        this(id, name, path, sizeBytes, chunkSize, chunkCount, manifestDigest, manifestRef, sourceIqn, registeredAt,
                hosts, hasBootProfile, null);
    }
}
