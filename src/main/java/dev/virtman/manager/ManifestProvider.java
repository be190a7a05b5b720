package dev.virtman.manager;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Computes and stores the chunk manifest of a raw image ({@link ChunkManifestProvider} in
 * production). An interface so tests and other deployments (e.g. manifests kept next to the
 * images) can store them elsewhere.
 */
public interface ManifestProvider {

    /**
     * Hashes {@code image} and stores its manifest under {@code manifestDir}.
     *
     * @throws IOException if the image cannot be read or the manifest not written
     */
    ManifestSummary build(Path image, Path manifestDir) throws IOException;

    /** The stored manifest's bytes, served to agents as their integrity root. */
    byte[] read(String manifestRef) throws IOException;

    /** Deletes a manifest this provider stored; a missing one is not an error. */
    void delete(String manifestRef) throws IOException;
}
