package dev.virtman.manager;

import dev.virtman.manager.model.ManifestSummary;
import java.io.IOException;
import java.nio.file.Files;
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

    /**
     * The stored manifest's bytes, served to agents as their integrity root. By default the
     * reference is the path of the manifest file ({@link ChunkManifestProvider#store}).
     */
    default byte[] read(final String manifestRef) throws IOException {
        return Files.readAllBytes(Path.of(manifestRef));
    }

    /** Deletes a manifest this provider stored; a missing one is not an error. */
    default void delete(final String manifestRef) throws IOException {
        Files.deleteIfExists(Path.of(manifestRef));
    }
}
