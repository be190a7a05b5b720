package dev.virtman.manager.api;

/**
 * An image as the API shows it.
 *
 * @param id          content-derived id (prefix of the manifest digest), used in IQNs
 * @param manifestRef where the chunk manifest is stored (opaque to clients)
 * @param sourceIqn   the source target's IQN for this image
 * @param hosts       hosts currently in this image's tree
 */
public record ImageView(String id, String name, String path, long sizeBytes, int chunkSize, long chunkCount,
                        String manifestDigest, String manifestRef, String sourceIqn, String registeredAt,
                        int hosts, boolean hasBootProfile) { }
