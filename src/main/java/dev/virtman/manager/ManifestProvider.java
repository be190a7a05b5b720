package dev.virtman.manager;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Computes and stores the chunk manifest of a raw image. Pluggable so the block layer's manifest
 * builder can replace {@link Sha256ChunkManifestProvider} without touching the manager.
 */
public interface ManifestProvider {

    /**
     * Hashes {@code image} and stores its manifest under {@code manifestDir}.
     *
     * @throws IOException if the image cannot be read or the manifest not written
     */
    ManifestSummary build(Path image, Path manifestDir) throws IOException;

    /** Deletes a manifest this provider stored; a missing one is not an error. */
    void delete(String manifestRef) throws IOException;
}
