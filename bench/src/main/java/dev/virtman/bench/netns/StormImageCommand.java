package dev.virtman.bench.netns;

import dev.virtman.bench.storm.StormImage;
import dev.virtman.trace.BootTrace;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virtman bench storm-image}: writes the sparse image {@code virtman bench storm} boots
 * (random bytes in every region the trace reads, zeros elsewhere), for storms whose manager and
 * agents run as processes of their own ({@code bench/netns-storm}).
 */
@Command(name = "storm-image", mixinStandardHelpOptions = true,
        description = "Write the sparse storm image of a boot trace (random data where the trace reads).")
public final class StormImageCommand implements Callable<Integer> {
    @Option(names = "--trace", paramLabel = "CSV", required = true, description = "boot trace")
    Path trace;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "image file to write (replaced)")
    Path out;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        StormImage image = StormImage.create(out, BootTrace.readCsv(trace), 0);
        spec.commandLine().getOut().printf("%s %d bytes, %d of data%n", image.path(), image.size(), image.dataBytes());
        return 0;
    }
}
