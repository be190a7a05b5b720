package dev.virtman.manager;

import dev.virtman.manager.ManagerState.Transaction;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.model.ManifestSummary;
import dev.virtman.manager.tree.DistributionTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The images: registration (hashing outside the lock, since it may take a minute), Glance
 * imports as versions of a series, lookup by id, name or id prefix, removal with everything that
 * hangs off an image (its tree, profile, manifest, imported file).
 */
final class ImageCatalog {

    private static final Logger LOG = LoggerFactory.getLogger(ImageCatalog.class);

    static final Pattern IMAGE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Versions a Glance series name must leave room for in {@link #IMAGE_NAME}'s length. */
    private static final int MAX_VERSION = 99_999;

    private final ManagerState state;
    private final ManifestProvider manifests;
    private final Object localBuilds = new Object();
    private final ManagerMetrics metrics;
    private final ImageDirectories imageDirs;

    ImageCatalog(final ManagerState state, final ManifestProvider manifests, final ManagerMetrics metrics) {
        this.state = state;
        this.manifests = manifests;
        this.metrics = metrics;
        this.imageDirs = state.config.imageDirectories();
    }

    /** Hashes the image (outside the lock: it may take a while) and registers it. */
    ImageStatus register(final String name, final String path) {
        if (name == null || !IMAGE_NAME.matcher(name).matches()) {
            throw ManagerException.invalid("image name must match " + IMAGE_NAME.pattern() + ", got "
                    + InputRules.quoted(name));
        }
        Path file = requireImageFile(path);
        synchronized (state) {
            requireNameFree(name);
        }
        ManifestSummary manifest = buildManifest(file);
        synchronized (state) {
            ImageRecord image = new ImageRecord(ImageRecord.idFor(manifest), name, file.toString(), manifest,
                    state.now());
            return state.transact(tx -> {
                requireNameFree(name);
                ImageRecord same = state.images.get(image.id());
                if (same != null) {
                    throw ManagerException.conflict("identical content is already registered as image '"
                            + same.name() + "' (id " + same.id() + ")");
                }
                return add(image, tx);
            });
        }
    }

    /** See {@link Manager#registerGlanceImage}. */
    Manager.Registration registerGlance(final String path, final GlanceOrigin origin) {
        if (origin == null || origin.imageId() == null || origin.glanceUrl() == null || origin.diskFormat() == null
                || (origin.osHashValue() == null && origin.checksum() == null)) {
            throw ManagerException.invalid("glance origin needs glanceUrl, imageId, diskFormat and a hash");
        }
        String series = origin.series();
        if (series == null || !IMAGE_NAME.matcher(GlanceOrigin.versionName(series, MAX_VERSION)).matches()) {
            throw ManagerException.invalid("series name must match " + IMAGE_NAME.pattern()
                    + " with room for a version suffix, got " + InputRules.quoted(series));
        }
        Path file = requireImageFile(path);
        synchronized (state) {
            ImageRecord known = glanceImport(origin.imageId(), origin.osHashValue());
            if (known != null) {
                return new Manager.Registration(status(known), false);
            }
        }
        ManifestSummary manifest = buildManifest(file);
        synchronized (state) {
            return state.transact(tx -> {
                ImageRecord known = glanceImport(origin.imageId(), origin.osHashValue());
                if (known == null) {
                    known = state.images.get(ImageRecord.idFor(manifest));
                }
                if (known != null) {
                    return new Manager.Registration(status(known), false);
                }
                int version = 1 + state.images.values().stream()
                        .filter(i -> i.glance() != null && i.glance().series().equals(series))
                        .mapToInt(i -> i.glance().version()).max().orElse(0);
                String name = GlanceOrigin.versionName(series, version);
                requireNameFree(name);
                ImageRecord image = new ImageRecord(ImageRecord.idFor(manifest), name, file.toString(), manifest,
                        state.now(), origin.withVersion(series, version));
                return new Manager.Registration(add(image, tx), true);
            });
        }
    }

    /** The image imported from this Glance image with this data, if any. Lock held. */
    private ImageRecord glanceImport(final String glanceImageId, final String osHashValue) {
        for (ImageRecord i : state.images.values()) {
            if (i.glance() != null && i.glance().sameData(glanceImageId, osHashValue)) {
                return i;
            }
        }
        return null;
    }

    Optional<ImageStatus> findGlanceImport(final String glanceImageId, final String osHashValue) {
        synchronized (state) {
            return Optional.ofNullable(glanceImport(glanceImageId, osHashValue)).map(this::status);
        }
    }

    private ImageStatus add(final ImageRecord image, final Transaction tx) {
        state.images = ManagerState.copy(state.images);
        state.images.put(image.id(), image);
        state.trees = ManagerState.copy(state.trees);
        state.trees.put(image.id(), DistributionTree.empty());
        tx.change.putImage(image);
        tx.afterCommit(state.replyChanges::all);
        tx.afterCommit(() -> {
            metrics.addImage(image.id());
            LOG.info("registered image {} ({}): {} bytes, {} chunks of {}{}", image.id(), image.name(),
                    image.manifest().sizeBytes(), image.manifest().chunkCount(), image.manifest().chunkSize(),
                    image.glance() == null ? "" : ", from Glance image " + image.glance().imageId() + " version "
                            + image.glance().version());
        });
        return status(image);
    }

    /** The real path of a client-named image file under an image directory ({@link ImageDirectories}). */
    private Path requireImageFile(final String path) {
        return imageDirs.requireImageFile(path);
    }

    private ManifestSummary buildManifest(final Path file) {
        ManifestSummary manifest;
        try {
            manifest = manifests.build(file, state.config.stateDir().manifests());
        } catch (IOException e) {
            throw ManagerException.invalid("cannot read image " + file + ": " + e.getMessage());
        }
        if (manifest.sizeBytes() == 0) {
            throw ManagerException.invalid("image is empty: " + file);
        }
        return manifest;
    }

    private void requireNameFree(final String name) {
        for (ImageRecord i : state.images.values()) {
            if (i.name().equals(name)) {
                throw ManagerException.conflict("an image named '" + name + "' already exists (id " + i.id() + ")");
            }
        }
    }

    List<ImageStatus> images() {
        synchronized (state) {
            return state.images.values().stream().map(this::status).toList();
        }
    }

    /** By id or by name. */
    ImageStatus image(final String idOrName) {
        synchronized (state) {
            return status(require(idOrName));
        }
    }

    void remove(final String idOrName) {
        synchronized (state) {
            state.transact(tx -> {
                ImageRecord image = require(idOrName);
                state.images = ManagerState.copy(state.images);
                state.images.remove(image.id());
                state.trees = ManagerState.copy(state.trees);
                state.trees.remove(image.id());
                state.unplaced = ManagerState.copy(state.unplaced);
                state.unplaced.remove(image.id());
                state.profiles = ManagerState.copy(state.profiles);
                state.profiles.remove(image.id());
                Map<String, Set<String>> members = new HashMap<>();
                state.membership.forEach((host, set) -> {
                    Set<String> rest = new LinkedHashSet<>(set);
                    rest.remove(image.id());
                    members.put(host, rest);
                });
                state.membership = members;
                tx.change.deleteImage(image.id());
                tx.afterCommit(state.replyChanges::all);
                tx.afterCommit(() -> {
                    metrics.removeImage(image.id());
                    deleteImportedFile(image);
                    try {
                        manifests.delete(image.manifest().manifestRef());
                    } catch (IOException e) {
                        LOG.warn("image {} removed, but its manifest {} was not deleted: {}", image.id(),
                                image.manifest().manifestRef(), e.getMessage());
                    }
                    LOG.info("removed image {} ({})", image.id(), image.name());
                });
                return null;
            });
        }
    }

    /** An image file the manager downloaded itself (into its images directory) goes with its image. */
    private void deleteImportedFile(final ImageRecord image) {
        Path file = Path.of(image.path());
        if (image.glance() != null && file.getParent() != null
                && file.getParent().equals(state.config.stateDir().images())) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.warn("image {} removed, but its file {} was not deleted: {}", image.id(), file, e.getMessage());
            }
        }
    }

    /**
     * By full id, name, or an id prefix of at least {@value Manager#MIN_ID_PREFIX} hex digits that
     * matches one image. Lock held.
     */
    ImageRecord require(final String ref) {
        ImageRecord image = state.images.get(ref);
        if (image != null) {
            return image;
        }
        for (ImageRecord i : state.images.values()) {
            if (i.name().equals(ref)) {
                return i;
            }
        }
        if (ref.length() >= Manager.MIN_ID_PREFIX) {
            List<ImageRecord> matches = state.images.values().stream().filter(i -> i.id().startsWith(ref)).toList();
            if (matches.size() == 1) {
                return matches.getFirst();
            }
            if (matches.size() > 1) {
                throw ManagerException.invalid("image id prefix '" + ref + "' is ambiguous (" + matches.size() + " images)");
            }
        }
        throw ManagerException.notFound("no image with id or name " + InputRules.quoted(ref));
    }

    /** The image's stored chunk manifest (its integrity root), for agents. */
    byte[] manifest(final String ref) {
        ImageRecord image;
        synchronized (state) {
            image = require(ref);
        }
        try {
            try {
                return manifests.read(image.manifest().manifestRef());
            } catch (java.nio.file.NoSuchFileException elsewhere) {
                return localManifest(image);
            }
        } catch (IOException e) {
            throw new ManagerException(ManagerException.Reason.INTERNAL, "manifest of image " + image.id()
                    + " is unreadable: " + e.getMessage());
        }
    }

    /**
     * The manifest of an image another manager registered (managers sharing state on etcd each
     * keep manifests in their own state directory): this manager's copy, built once from the same
     * image file and checked against the registered id, the manifest's own hash. One build at a
     * time, so a boot storm asking a new leader for it hashes the image once.
     */
    private byte[] localManifest(final ImageRecord image) throws IOException {
        Path dir = state.config.stateDir().manifests();
        Path local = dir.resolve(image.id() + ChunkManifestProvider.SUFFIX);
        synchronized (localBuilds) {
            if (!Files.exists(local)) {
                ManifestSummary built = manifests.build(Path.of(image.path()), dir);
                if (!built.digest().equals(image.manifest().digest())) {
                    manifests.delete(built.manifestRef());
                    throw new IOException("image file " + image.path() + " no longer matches the registered image"
                            + " (manifest " + built.digest() + ", registered " + image.manifest().digest() + ")");
                }
                local = Path.of(built.manifestRef());
                LOG.info("built the manifest of image {} (registered by another manager) from {}", image.id(),
                        image.path());
            }
        }
        return manifests.read(local.toString());
    }

    /** Lock held. */
    private ImageStatus status(final ImageRecord i) {
        return new ImageStatus(i, state.trees.getOrDefault(i.id(), DistributionTree.empty()).size(),
                state.profiles.containsKey(i.id()));
    }
}
