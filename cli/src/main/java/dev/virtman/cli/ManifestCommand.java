package dev.virtman.cli;

import dev.virtman.block.manifest.ByteSize;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.block.manifest.ManifestFormat;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code virtman manifest IMAGE}: registers an image by hashing it into a chunk manifest. Prints
 * the image id on stdout (for scripts) and progress on stderr.
 */
@Command(name = "manifest", mixinStandardHelpOptions = true,
        description = "Hash a raw image into a chunk manifest (SHA-256 per chunk) and print its image id.")
public final class ManifestCommand implements Callable<Integer> {
    private static final int PERCENT = 100;

    @Parameters(index = "0", paramLabel = "IMAGE", description = "raw image file")
    Path image;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "manifest file (default: IMAGE.manifest)")
    Path output;

    @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "64K",
            description = "chunk size, a power of two from 4K to 16M (default: ${DEFAULT-VALUE})")
    String chunkSize;

    @Option(names = "--threads", paramLabel = "N", description = "hashing threads (default: one per core)")
    Integer threads;

    @Option(names = {"-q", "--quiet"}, description = "no progress on stderr")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(image)) {
            throw new CommandLine.ParameterException(spec.commandLine(), image + ": not a regular file");
        }
        int chunk;
        try {
            long parsed = ByteSize.parse(chunkSize);
            ChunkManifest.checkChunkSize((int) Math.min(parsed, Integer.MAX_VALUE));
            chunk = (int) parsed;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chunk-size: " + e.getMessage());
        }
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        ManifestBuilder.ProgressListener progress = quiet ? ManifestBuilder.ProgressListener.NONE
                : (done, total) -> {
                    err.printf("\rhashing %s: %d%%", image.getFileName(), total == 0 ? PERCENT : done * PERCENT / total);
                    err.flush();
                };
        long start = System.nanoTime();
        ChunkManifest manifest = new ManifestBuilder(chunk, n, progress).build(image);
        Path out = output != null ? output : image.resolveSibling(image.getFileName() + ".manifest");
        ManifestFormat.write(manifest, out);
        if (!quiet) {
            double seconds = (System.nanoTime() - start) / 1e9;
            err.printf("%nwrote %s: %d chunks of %s, %.1f MiB/s%n", out, manifest.chunkCount(),
                    ByteSize.format(chunk), manifest.imageSize() / 1048576.0 / Math.max(seconds, 1e-9));
            err.flush();
        }
        spec.commandLine().getOut().println(manifest.imageIdHex());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
