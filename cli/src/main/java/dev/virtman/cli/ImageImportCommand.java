package dev.virtman.cli;

import dev.virtman.manager.GlanceImports;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.openstack.glance.GlanceClient;
import dev.virtman.openstack.glance.GlanceException;
import dev.virtman.openstack.glance.GlanceImage;
import dev.virtman.openstack.glance.GlanceImporter;
import dev.virtman.openstack.glance.Qcow2Converter;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code virtman image import --glance URL IMAGE_ID}: downloads a Glance image here, verifies it
 * against Glance's {@code os_hash_value} and {@code checksum} while it streams, converts qcow2 to
 * raw and registers the file with the manager. Without {@code --glance} the manager imports from
 * its own Glance ({@code virtman manager --glance-url}).
 */
@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Import an image from OpenStack Glance: download, verify (size, os_hash_value, checksum),"
                + " convert qcow2 to raw, register.",
                "Importing the same Glance image again does nothing; a new Glance image under the same name"
                        + " becomes the next version (NAME.v2, ...) and VMs keep the version they booted."})
final class ImageImportCommand implements Callable<Integer> {

    private static final long MIB = 1 << 20;
    private static final int PERCENT = 100;
    /** Non-terminal output: a progress line every quarter. */
    private static final int LOG_STEPS = 4;
    private static final long REDRAW_NANOS = 500_000_000L;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IMAGE_ID", description = "Glance image id (a UUID).")
    String imageId;

    @Option(names = "--glance", paramLabel = "URL",
            description = "Glance endpoint (e.g. http://controller:9292): download here. Without it the manager"
                    + " imports from its own --glance-url.")
    URI glance;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Name of the image's versions (default: its Glance name, reduced to [A-Za-z0-9._-]).")
    String name;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where the raw file is written; the manager must be able to read it"
                    + " (default: the state dir's images/).")
    Path dir;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60m", converter = DurationConverter.class,
            description = "Without --glance: how long to wait for the manager's import. Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Mixin
    OpenStackAuthOptions auth;

    @Mixin
    ManagerClientOptions options;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return ClientCommands.run(spec, () -> {
            ManagerClient manager = options.client();
            if (glance == null) {
                ImageView i = manager.importFromGlance(imageId, name, timeout);
                report(out, i, imageId);
                return 0;
            }
            try {
                return importHere(manager, out);
            } catch (GlanceException e) {
                spec.commandLine().getErr().println("virtman: " + e.getMessage());
                return ClientCommands.FAILED;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        });
    }

    private int importHere(final ManagerClient manager, final PrintWriter out) throws IOException {
        GlanceImporter importer = new GlanceImporter(new GlanceClient(glance, auth.tokens()), new Qcow2Converter());
        GlanceImage image = importer.describe(imageId);
        Optional<ImageView> known = manager.images().stream()
                .filter(i -> i.glance() != null && i.glance().sameData(image.id(), image.osHashValue()))
                .findFirst();
        if (known.isPresent()) {
            out.printf("Glance image %s is already imported as %s (id %s, version %d): nothing to do%n", image.id(),
                    known.get().name(), known.get().id(), known.get().glance().version());
            return 0;
        }
        Path target = (dir != null ? dir : stateDir().images()).toAbsolutePath().normalize();
        Path raw = importer.fetch(image, target, new Progress(spec.commandLine().getErr()));
        ImageView registered;
        try {
            registered = manager.registerGlanceImage(raw.toString(), GlanceImports.originOf(glance, image, name));
        } catch (RuntimeException e) {
            Files.deleteIfExists(raw);
            throw e;
        }
        if (!registered.path().equals(raw.toString())) {
            Files.deleteIfExists(raw);
        }
        report(out, registered, image.id());
        return 0;
    }

    private StateDir stateDir() {
        return options.stateDir != null ? new StateDir(options.stateDir) : StateDir.defaultDir();
    }

    private static void report(final PrintWriter out, final ImageView i, final String glanceImageId) {
        if (i.glance() == null || !i.glance().imageId().equalsIgnoreCase(glanceImageId)) {
            out.printf("Glance image %s has the same content as image %s (id %s): nothing imported%n", glanceImageId,
                    i.name(), i.id());
            return;
        }
        out.printf("Glance image %s is image %s (version %d of %s): id %s, %d bytes, %d chunks of %d bytes%n",
                glanceImageId, i.name(), i.glance().version(), i.glance().series(), i.id(), i.sizeBytes(),
                i.chunkCount(), i.chunkSize());
        out.printf("source target %s%n", i.sourceIqn());
    }

    /** Download progress on stderr: redrawn in place on a terminal, a line per quarter otherwise. */
    private static final class Progress implements GlanceImporter.Progress {
        private final PrintWriter err;
        private final boolean terminal = System.console() != null;
        private final long start = System.nanoTime();
        private long lastDraw;
        private int lastStep;

        Progress(final PrintWriter err) {
            this.err = err;
        }

        @Override
        public void downloaded(final long bytes, final long total) {
            long now = System.nanoTime();
            int step = total == 0 ? LOG_STEPS : (int) (bytes * LOG_STEPS / total);
            boolean done = bytes == total;
            if (terminal ? (now - lastDraw >= REDRAW_NANOS || done) : step > lastStep) {
                lastDraw = now;
                lastStep = step;
                double seconds = Math.max(1e-3, (now - start) / 1e9);
                err.printf("%sdownloaded %.1f of %.1f MiB (%d%%), %.1f MiB/s%s", terminal ? "\r" : "",
                        bytes / (double) MIB, total / (double) MIB, total == 0 ? PERCENT : bytes * PERCENT / total,
                        bytes / (double) MIB / seconds, terminal && !done ? "" : "\n");
                err.flush();
            }
        }

        @Override
        public void note(final String line) {
            err.println(line);
            err.flush();
        }
    }
}
