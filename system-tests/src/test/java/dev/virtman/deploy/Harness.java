package dev.virtman.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** {@code scripts/netns-cluster} driven from a test: one command, its output, a bounded wait. */
final class Harness {

    private Harness() {
    }

    static List<String> command(final String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProjectPaths.root().resolve("scripts/netns-cluster").toString());
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code netns-cluster ARGS}; its output, or an AssertionError with it when it fails or overruns. */
    static String run(final Duration limit, final String... args) throws IOException, InterruptedException {
        return process(limit, command(args));
    }

    static String process(final Duration limit, final List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out;
        try {
            // The output is read to its end; a command that never closes it is stopped by the limit.
            Thread killer = Thread.ofVirtual().start(() -> {
                try {
                    if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                }
            });
            out = p.getInputStream().readAllBytes();
            p.waitFor();
            killer.interrupt();
        } finally {
            p.destroyForcibly();
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (" + p.exitValue() + "): " + text);
        }
        return text;
    }

    /** The KEY=VALUE lines {@code netns-cluster up} prints. */
    static Map<String, String> env(final String upOutput) {
        Map<String, String> env = new HashMap<>();
        for (String line : upOutput.split("\n")) {
            int eq = line.indexOf('=');
            if (line.startsWith("VMNC_") && eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assertThat(env).as(upOutput).containsKeys("VMNC_MANAGER", "VMNC_SOURCE_IQN", "VMNC_TOKEN_FILE");
        return env;
    }

    /** Polls {@code probe} until {@code done} holds for its non-null answer; fails after {@code limit}. */
    static <T> T await(final String what, final Duration limit, final Supplier<T> probe, final Predicate<T> done)
            throws InterruptedException {
        return Await.until(what, limit, probe, last -> last != null && done.test(last));
    }
}
