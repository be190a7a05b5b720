package dev.virtman.manager;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.model.ManifestSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds an image's {@link ChunkManifest} with the block layer's {@link ManifestBuilder} and
 * stores it, in {@link ManifestFormat}, as {@code <image id>.manifest} in the manifest directory.
 * The image id is the manifest's own SHA-256, so identical content always gets the same id.
 */
public final class ChunkManifestProvider implements ManifestProvider {

    public static final String SUFFIX = ".manifest";

    private final int chunkSize;
    private final int threads;

    /**
     * @param chunkSize bytes per chunk, a power of two accepted by {@link ChunkManifest#checkChunkSize}
     * @param threads   hashing threads
     */
    public ChunkManifestProvider(final int chunkSize, final int threads) {
        ChunkManifest.checkChunkSize(chunkSize);
        this.chunkSize = chunkSize;
        this.threads = threads;
    }

    @Override
    public ManifestSummary build(final Path image, final Path manifestDir) throws IOException {
        ChunkManifest manifest = new ManifestBuilder(chunkSize, threads, ManifestBuilder.ProgressListener.NONE)
                .build(image);
        return store(manifest, manifestDir);
    }

    /**
     * Stores {@code manifest} as {@code <image id>.manifest} in {@code manifestDir} (durably: the
     * directory is fsynced) and returns its summary, the reference being the file's path. For any
     * provider that computes manifests its own way but keeps them like this one.
     */
    public static ManifestSummary store(final ChunkManifest manifest, final Path manifestDir) throws IOException {
        PrivateFiles.createDirectories(manifestDir);
        Path file = manifestDir.resolve(manifest.imageIdHex() + SUFFIX);
        ManifestFormat.write(manifest, file);
        StateDir.fsync(manifestDir);
        return new ManifestSummary(manifest.imageIdHex(), manifest.imageSize(), manifest.chunkSize(),
                manifest.chunkCount(), file.toString());
    }
}
