package dev.virtman.cli;

import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code virtman image register|import|list|rm}: manage the images the manager distributes. */
@Command(name = "image", mixinStandardHelpOptions = true, description = "Register, list and remove images.",
        subcommands = {ImageCommand.Register.class, ImageImportCommand.class, ImageCommand.ListImages.class,
            ImageCommand.Remove.class})
public final class ImageCommand implements Runnable {

    /** Id digits shown in listings; every command also accepts such a prefix. */
    static final int SHORT_ID = 16;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = "Register a raw image: the manager hashes it into a chunk manifest.")
    static final class Register extends ManagerClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Image name (letters, digits, . _ -).")
        String name;
        @Parameters(index = "1", paramLabel = "PATH", description = "Raw image file, readable by the manager.")
        Path path;

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            ImageView i = client.registerImage(name, path.toAbsolutePath().normalize().toString());
            out.printf("registered image %s (%s): %d bytes, %d chunks of %d bytes%n", i.id(), i.name(),
                    i.sizeBytes(), i.chunkCount(), i.chunkSize());
            out.printf("source target %s%n", i.sourceIqn());
        }
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List registered images.")
    static final class ListImages extends ManagerClientCommand {

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            List<ImageView> images = client.images();
            out.printf("%-16s  %-24s  %14s  %8s  %5s  %s%n", "ID", "NAME", "BYTES", "CHUNKS", "HOSTS", "PROFILE");
            for (ImageView i : images) {
                out.printf("%-16s  %-24s  %14d  %8d  %5d  %s%n", i.id().substring(0, SHORT_ID), i.name(), i.sizeBytes(), i.chunkCount(),
                        i.hosts(), i.hasBootProfile() ? "yes" : "no");
            }
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Remove an image, its tree and its boot profile.")
    static final class Remove extends ManagerClientCommand {
        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image id or name.")
        String image;

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            client.removeImage(image);
            out.printf("removed image %s%n", image);
        }
    }
}
