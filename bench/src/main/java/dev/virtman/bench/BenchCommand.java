package dev.virtman.bench;

import dev.virtman.agent.BandwidthCap;
import dev.virtman.bench.storm.StormBench;
import dev.virtman.bench.storm.StormImage;
import dev.virtman.bench.storm.StormReport;
import dev.virtman.bench.storm.StormSettings;
import dev.virtman.bench.storm.StrategyResult;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.cli.VirtmanCommand;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.trace.BootTrace;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virtman bench ...}: benchmarks that need the whole system running on one machine. Not in
 * the product jar: the bench module builds {@code target/virtman-bench.jar}, which the
 * {@code ./virtman} launcher runs for {@code virtman bench}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks of the whole system.",
        subcommands = {BenchCommand.Storm.class, dev.virtman.bench.netns.ReplayCommand.class,
                dev.virtman.bench.netns.StormImageCommand.class, dev.virtman.bench.profile.ProfileCommand.class,
                CommandLine.HelpCommand.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(final String[] args) {
        System.exit(VirtmanCommand.commandLine(new BenchCommand()).setCommandName("virtman bench").execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (try: virtman bench storm --help)");
    }

    /**
     * {@code virtman bench storm}: H managed agents on loopback addresses, a manager, a source and
     * H×V emulated VMs replaying a boot trace with every byte verified; tree vs flat-lazy vs
     * full-copy in the same run, optional faults. Exit 1 when any VM failed or read a wrong byte.
     */
    @Command(name = "storm", mixinStandardHelpOptions = true,
            description = "Boot-storm benchmark: H hosts × V emulated VMs replaying a boot trace (progress on stderr).")
    public static final class Storm implements Callable<Integer> {
        @Option(names = "--hosts", paramLabel = "H", defaultValue = "4", description = "emulated hosts (default: ${DEFAULT-VALUE})")
        int hosts;

        @Option(names = "--vms-per-host", paramLabel = "V", defaultValue = "2", description = "emulated VMs per host (default: ${DEFAULT-VALUE})")
        int vmsPerHost;

        @Option(names = "--trace", paramLabel = "CSV", required = true, description = "boot trace (time_offset_seconds,byte_offset,length)")
        Path trace;

        @Option(names = "--fan-out", paramLabel = "F", description = "tree fan-out (default: the manager's, " + TreeLimits.DEFAULT_FAN_OUT + ")")
        Integer fanOut;

        @Option(names = "--chunk-size", paramLabel = "BYTES",
                description = "the image's manifest chunk size (default: 32 KiB, see StormSettings.DEFAULT_CHUNK_SIZE;"
                        + " the manager's default is 64 KiB)")
        Integer chunkSize;

        @Option(names = "--link", paramLabel = "RATE", description = "cap each host's upstream, e.g. 1gbit, 100mbit, 50MB")
        String link;

        @Option(names = "--time-scale", paramLabel = "X", defaultValue = "1", description = "multiply the trace's time offsets (default: ${DEFAULT-VALUE})")
        double timeScale;

        @Option(names = "--image-size", paramLabel = "BYTES", defaultValue = "0",
                description = "minimum image size in bytes (default: just past the trace's last read)")
        long imageSize;

        @Option(names = "--kill-interior", paramLabel = "FRACTION", defaultValue = "0",
                description = "also run the tree storm killing this fraction of interior agents mid-storm")
        double killInterior;

        @Option(names = "--freeze-interior", paramLabel = "FRACTION", defaultValue = "0",
                description = "also run the tree storm freezing this fraction of interior agents mid-storm (silent:"
                        + " connections stay open, nothing is answered, no heartbeats)")
        double freezeInterior;

        @Option(names = "--freeze-for", paramLabel = "SECONDS", defaultValue = "10",
                description = "how long frozen agents stay silent (default: ${DEFAULT-VALUE})")
        double freezeFor;

        @Option(names = "--unhedged-baseline", description = "also run the fault-free tree with hedged fetches off,"
                + " to compare source bytes and times")
        boolean unhedgedBaseline;

        @Option(names = "--unhedged-first", description = "run the unhedged baseline before the hedged tree"
                + " (alternate between runs: the first large storm in a JVM tends to be the slowest)")
        boolean unhedgedFirst;

        @Option(names = "--warm-up-storm", description = "first run a discarded full-size tree storm as fast as it goes"
                + " (the first large storm in a JVM is the slowest: without this, whatever runs first is handicapped)")
        boolean warmUpStorm;

        @Option(names = "--restart-manager", description = "also run the tree storm restarting the manager mid-storm")
        boolean restartManager;

        @Option(names = "--full-copy-hosts", paramLabel = "N", defaultValue = "-1",
                description = "hosts in the full-copy baseline (default: all; 0 skips it)")
        int fullCopyHosts;

        @Option(names = "--boot-profile", description = "start the manager with the image's boot profile, as after an"
                + " earlier boot of it: every agent prefetches the profile while its VMs read")
        boolean bootProfile;

        @Option(names = "--no-flat", description = "skip the flat-lazy baseline")
        boolean noFlat;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = "storm-out", description = "report directory (default: ${DEFAULT-VALUE})")
        Path out;

        @Option(names = "--work-dir", paramLabel = "DIR", description = "image and caches (default: a temporary directory, removed after)")
        Path workDir;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException, InterruptedException {
            if (hosts < 1 || vmsPerHost < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--hosts and --vms-per-host must be >= 1");
            }
            if (killInterior < 0 || killInterior > 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--kill-interior is a fraction in 0..1");
            }
            if (freezeInterior < 0 || freezeInterior > 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--freeze-interior is a fraction in 0..1");
            }
            if (!(freezeFor > 0 && freezeFor <= 3600)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--freeze-for is seconds in (0, 3600]");
            }
            BootTrace bootTrace = BootTrace.readCsv(trace);
            int f = fanOut == null ? TreeLimits.DEFAULT_FAN_OUT : fanOut;
            int chunk = chunkSize == null ? StormSettings.DEFAULT_CHUNK_SIZE : chunkSize;
            if (f < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--fan-out must be >= 1");
            }
            try {
                ChunkManifest.checkChunkSize(chunk);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--chunk-size: " + e.getMessage());
            }
            if (StormImage.REGION_BYTES % chunk != 0) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--chunk-size must divide " + StormImage.REGION_BYTES);
            }
            long cap = link == null ? 0 : BandwidthCap.parse(link);
            StormSettings settings = new StormSettings(hosts, vmsPerHost, f, trace.toString(), bootTrace.reads().size(),
                    bootTrace.durationSeconds(), bootTrace.distinctBytes(), chunk, bootTrace.bytesFetched(chunk),
                    StormImage.sizeFor(bootTrace, imageSize), timeScale, cap, killInterior,
                    restartManager, fullCopyHosts < 0 ? hosts : fullCopyHosts, !noFlat, bootProfile, freezeInterior,
                    freezeFor, unhedgedBaseline, unhedgedFirst);
            boolean temporary = workDir == null;
            Path work = temporary ? Files.createTempDirectory("virtman-storm") : Files.createDirectories(workDir);
            PrintStream err = System.err;
            try {
                List<StrategyResult> results = new StormBench(settings, bootTrace, work, err).warmUpStorm(warmUpStorm).run();
                StormReport report = new StormReport(settings, results);
                report.write(out);
                spec.commandLine().getOut().print(report.markdown());
                spec.commandLine().getOut().flush();
                err.println("storm: report in " + out.toAbsolutePath());
                return results.stream().allMatch(StrategyResult::allVerified) ? 0 : 1;
            } finally {
                if (temporary) {
                    deleteTree(work);
                }
            }
        }

        private static void deleteTree(final Path dir) throws IOException {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
