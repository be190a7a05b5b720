package dev.virtman.manager;

import dev.virtman.manager.Manager.Registration;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.openstack.glance.GlanceClient;
import dev.virtman.openstack.glance.GlanceException;
import dev.virtman.openstack.glance.GlanceImage;
import dev.virtman.openstack.glance.GlanceImporter;
import dev.virtman.openstack.glance.Qcow2Converter;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's on-demand Glance imports ({@code POST /v1/images} with a {@code glanceImageId}),
 * what the Cinder driver calls for "create volume from image": look the image up in Glance,
 * return the registered version if its data is already here, else download and verify it into
 * the state directory's {@code images/} and register it ({@link Manager#registerGlanceImage}).
 *
 * <p>Requests for the same Glance image while its download runs wait for that one download
 * instead of starting their own (ten volumes created from a new image fetch it once).
 */
public final class GlanceImports {

    private static final Logger LOG = LoggerFactory.getLogger(GlanceImports.class);

    private final Manager manager;
    private final GlanceImporter importer;
    private final Path dir;
    private final Map<String, CompletableFuture<Registration>> running = new ConcurrentHashMap<>();

    public GlanceImports(final Manager manager, final GlanceSettings settings, final Path dir) {
        this.manager = manager;
        this.importer = new GlanceImporter(new GlanceClient(settings.endpoint(), settings.tokens()), new Qcow2Converter());
        this.dir = dir;
    }

    /** The provenance record of {@code image} fetched from {@code endpoint}, version set on registration. */
    public static GlanceOrigin originOf(final URI endpoint, final GlanceImage image, final String series) {
        return new GlanceOrigin(endpoint.toString(), image.id(), image.name(), image.diskFormat(), image.osHashAlgo(),
                image.osHashValue(), image.checksum(),
                series != null ? series : GlanceOrigin.seriesFor(image.name(), image.id()), 0);
    }

    /**
     * Imports a Glance image, or finds it already imported.
     *
     * @param series VirtMan name of the image's versions, or null for one derived from its Glance name
     * @throws ManagerException mapped from the {@link GlanceException}: 422 for a missing or
     *                          unsupported image, 502 when Glance fails or sends bad data
     */
    public Registration importImage(final String glanceImageId, final String series) {
        InputRules.requireText("glanceImageId", glanceImageId);
        InputRules.requireText("name", series);
        GlanceImage image = glance(() -> importer.describe(glanceImageId));
        Optional<ImageStatus> known = manager.findGlanceImport(image.id(), image.osHashValue());
        if (known.isPresent()) {
            return new Registration(known.get(), false);
        }
        String key = image.id() + "/" + image.osHashValue();
        CompletableFuture<Registration> mine = new CompletableFuture<>();
        CompletableFuture<Registration> theirs = running.putIfAbsent(key, mine);
        if (theirs != null) {
            try {
                return new Registration(theirs.join().image(), false);
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            Registration r = fetchAndRegister(image, series);
            mine.complete(r);
            return r;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            running.remove(key, mine);
        }
    }

    private Registration fetchAndRegister(final GlanceImage image, final String series) {
        long start = System.nanoTime();
        Path raw = glance(() -> importer.fetch(image, dir, new LoggedProgress(image.id())));
        Registration r;
        try {
            r = manager.registerGlanceImage(raw.toString(),
                    originOf(importer.glance().endpoint(), image, series));
        } catch (RuntimeException e) {
            delete(raw);
            throw e;
        }
        if (!r.image().path().equals(raw.toString())) {
            delete(raw); // identical content was already registered from another file
        }
        LOG.info("Glance image {} imported as {} ({}) in {} ms", image.id(), r.image().name(), r.image().id(),
                (System.nanoTime() - start) / 1_000_000);
        return r;
    }

    /** Runs a Glance step, turning its failure into the manager's error type. */
    private static <T> T glance(final Supplier<T> step) {
        try {
            return step.get();
        } catch (GlanceException e) {
            throw toManagerException(e);
        }
    }

    static ManagerException toManagerException(final GlanceException e) {
        ManagerException.Reason reason = switch (e.kind()) {
            case NOT_FOUND, UNSUPPORTED -> ManagerException.Reason.INVALID;
            case UNAVAILABLE, UNAUTHORIZED, INTEGRITY -> ManagerException.Reason.BAD_GATEWAY;
            case LOCAL -> ManagerException.Reason.INTERNAL;
        };
        return new ManagerException(reason, e.getMessage());
    }

    private static void delete(final Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", file, e.getMessage());
        }
    }

    /** Download progress in the manager's log, every tenth of the image. */
    private static final class LoggedProgress implements GlanceImporter.Progress {
        private static final int STEPS = 10;
        private final String imageId;
        private int lastStep;

        LoggedProgress(final String imageId) {
            this.imageId = imageId;
        }

        @Override
        public void downloaded(final long bytes, final long total) {
            int step = total == 0 ? STEPS : (int) (bytes * STEPS / total);
            if (step > lastStep) {
                lastStep = step;
                LOG.info("Glance image {}: {} of {} bytes verified so far", imageId, bytes, total);
            }
        }

        @Override
        public void note(final String line) {
            LOG.info("{}", line);
        }
    }
}
