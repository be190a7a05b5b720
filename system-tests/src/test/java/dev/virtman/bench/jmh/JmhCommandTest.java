package dev.virtman.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.ProjectPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JMH command docs/benchmarks.md shows (its block fenced {@code sh jmh-test}) runs as written
 * from the repository root and reports a score for every benchmark of the bench module. It lives
 * here rather than in cli's DocumentedCommandsTest because {@code bench/jmh} runs the bench jar,
 * which the reactor packages after cli's tests and before this module's.
 */
class JmhCommandTest {
    private static final Pattern BLOCK = Pattern.compile("(?s)```sh jmh-test\\n(.*?)\\n```");
    /** A row of JMH's summary table: the benchmark, its parameters, mode, score, unit. */
    private static final Pattern ROW = Pattern.compile(
            "(?m)^(\\w+\\.\\w+)\\s+.*\\s(thrpt|avgt)\\s+(?:\\d+\\s+)?([0-9.]+)\\s+(?:± [0-9.]+\\s+)?(ops/s|ms/op)\\s*$");
    private static final long TIMEOUT_SECONDS = 300;

    @Test
    void theDocumentedCommandScoresEveryBenchmark(@TempDir final Path temp) throws Exception {
        Path root = ProjectPaths.root();
        Matcher block = BLOCK.matcher(Files.readString(root.resolve("docs/benchmarks.md")));
        assertThat(block.find()).as("docs/benchmarks.md has a block fenced `sh jmh-test`").isTrue();
        Path output = temp.resolve("jmh.out");
        Process shell = new ProcessBuilder("bash", "-euo", "pipefail", "-c", block.group(1))
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        boolean finished;
        try {
            finished = shell.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } finally {
            shell.descendants().forEach(ProcessHandle::destroyForcibly);
            shell.destroyForcibly();
        }
        String transcript = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(finished).as("finished within %d s:\n%s", TIMEOUT_SECONDS, transcript).isTrue();
        assertThat(shell.exitValue()).as("exit status:\n%s", transcript).isZero();
        List<String> scored = ROW.matcher(transcript).results()
                .filter(r -> Double.parseDouble(r.group(3)) > 0)
                .map(r -> r.group(1))
                .distinct()
                .toList();
        assertThat(scored).as("benchmarks with a score:\n%s", transcript).containsExactlyInAnyOrder(
                "CacheReadBenchmark.read",
                "TreePlannerBenchmark.planAll",
                "TreePlannerBenchmark.replanAfterFailures",
                "TreePlannerBenchmark.oneJoin");
    }
}
