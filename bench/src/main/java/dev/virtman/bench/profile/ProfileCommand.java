package dev.virtman.bench.profile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virtman bench profile}: summarises a JFR recording of a storm (or of anything) as a
 * flame graph and a table of where the CPU went, split by {@link CostCategory}.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "CPU profile summary of a JFR recording: flame graph (SVG), collapsed stacks and a cost table.")
public final class ProfileCommand implements Callable<Integer> {
    @Option(names = "--jfr", paramLabel = "FILE", required = true,
            description = "the recording (best with jdk.CPUTimeSample#enabled=true, JDK 25)")
    Path jfr;

    @Option(names = "--window", paramLabel = "STRATEGY",
            description = "keep only samples taken while this storm strategy ran (e.g. tree); default: the whole recording")
    String window;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "profile-out",
            description = "where flame.svg, collapsed.txt and profile.md go (default: ${DEFAULT-VALUE})")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CpuProfile p = CpuProfile.read(jfr, window);
        Files.createDirectories(out);
        Map<String, Long> stacks = p.collapsed();
        Files.writeString(out.resolve("collapsed.txt"), stacks.entrySet().stream()
                .sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining("\n", "", "\n")));
        String title = String.format(Locale.ROOT, "%s: %d %s samples%s", jfr.getFileName(), p.samples().size(),
                p.eventType(), window == null ? "" : " while '" + window + "' ran");
        Files.writeString(out.resolve("flame.svg"), FlameGraph.svg(title, stacks));
        String md = markdown(p, title);
        Files.writeString(out.resolve("profile.md"), md);
        spec.commandLine().getOut().print(md);
        spec.commandLine().getOut().flush();
        return 0;
    }

    static String markdown(final CpuProfile p, final String title) {
        StringBuilder b = new StringBuilder();
        long total = Math.max(1, p.samples().size());
        b.append("# CPU profile\n\n").append(title).append(".\n\n");
        b.append("| part of the data path | samples | share |\n|---|---:|---:|\n");
        for (Map.Entry<CostCategory, Long> e : p.byCategory().entrySet()) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %.1f %% |%n", e.getKey().label(), e.getValue(),
                    100.0 * e.getValue() / total));
        }
        b.append(String.format(Locale.ROOT, "%nGC threads (not sampled; jdk.GCCPUTime): %.1f CPU s over a %.1f s window."
                + " Samples lost by the sampler (queue full): %d.%n%n", p.gcCpuSeconds(), p.windowSeconds(), p.lostSamples()));
        b.append("Hottest leaf frames:\n\n| frame | samples | share |\n|---|---:|---:|\n");
        List<Map.Entry<String, Long>> top = p.topLeaves(20);
        for (Map.Entry<String, Long> e : top) {
            b.append(String.format(Locale.ROOT, "| `%s` | %d | %.1f %% |%n", e.getKey(), e.getValue(),
                    100.0 * e.getValue() / total));
        }
        return b.toString();
    }
}
