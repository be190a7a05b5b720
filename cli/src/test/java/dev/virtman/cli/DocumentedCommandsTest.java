package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.cli.DocumentedBlocks.Block;
import dev.virtman.testing.ProjectPaths;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command sequence that README.md and docs/*.md show runs as written: the commands an
 * operator copies, in separate processes (each {@code virtman} is its own JVM, as installed), so
 * a command that crashes outside an in-process test fails here.
 *
 * <p><b>How to register a documented block.</b> Give its fence the info string {@code sh test}
 * (GitHub still renders it as {@code sh}). Attributes after {@code test}, separated by spaces:
 * <ul>
 *   <li>{@code test=NAME}: blocks of one file with the same name run in order as one sequence
 *       (daemons started by an earlier block keep running for the later ones);</li>
 *   <li>{@code files=a.raw,/images/b.raw}: 8 MiB random images created before the sequence runs
 *       (relative to the working directory, or absolute);</li>
 *   <li>{@code skip=CMD,CMD}: lines running these commands are not run here (the prose must say
 *       why, e.g. {@code qemu-system-x86_64 ...} elided guest options, {@code scripts/test} is this
 *       suite);</li>
 *   <li>{@code small}: boots run one VM ({@code --count N} becomes {@code --count 1});</li>
 *   <li>{@code timeout=SECONDS}: for the whole sequence (default 300).</li>
 * </ul>
 * What the commands get ({@link DocumentedCommandRewriter}): loopback addresses with free ports,
 * absolute paths under {@code /var /etc /srv /images /tmp} moved into a temporary root, an empty
 * HOME (also the JVM's {@code user.home}), no {@code VIRTMAN_*} variables, and {@code virtman} on PATH running this build.
 * {@code virtman manager|agent|serve} run in the background until the sequence ends and must
 * still be alive then; every other command must exit 0 ({@code set -e}).
 *
 * <p>A block showing a {@code virtman} command that cannot run on one machine is marked
 * {@code sh notest=REASON} (e.g. {@code notest=real-openstack}); {@link #everyVirtmanCommandIsTestedOrSaysWhyNot}
 * fails for a block with neither mark. Keep that list short.
 */
class DocumentedCommandsTest {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);
    private static final int FIXTURE_BYTES = 8 << 20;
    /** The line each long-running command prints on standard output once it serves. */
    private static final String DAEMON_READY = "^(manager listening on|agent ready:|virtman: serving)";

    private final Path repo = ProjectPaths.root();

    @Test
    void everyVirtmanCommandIsTestedOrSaysWhyNot() {
        List<String> unmarked = new ArrayList<>();
        List<String> untestable = new ArrayList<>();
        for (Path file : DocumentedBlocks.markdownFiles(repo)) {
            for (Block block : DocumentedBlocks.parse(repo, file)) {
                if (block.markedUntestable()) {
                    untestable.add(block + " (" + block.attributes().get("notest") + ")");
                } else if (block.showsVirtmanCommand() && !block.tested()) {
                    unmarked.add(block.toString());
                }
            }
        }
        assertThat(unmarked)
                .as("blocks showing virtman commands with neither `sh test` nor `sh notest=REASON` (not run: %s)", untestable)
                .isEmpty();
    }

    @TestFactory
    Stream<DynamicTest> documentedSequencesRun(@TempDir final Path temp) {
        Map<String, List<Block>> groups = new LinkedHashMap<>();
        for (Path file : DocumentedBlocks.markdownFiles(repo)) {
            for (Block block : DocumentedBlocks.parse(repo, file)) {
                if (block.tested()) {
                    groups.computeIfAbsent(block.group(), g -> new ArrayList<>()).add(block);
                }
            }
        }
        assertThat(groups).as("documented command blocks marked `sh test`").isNotEmpty();
        int[] n = {0};
        return groups.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(),
                () -> runSequence(temp.resolve("seq-" + n[0]++), e.getValue())));
    }

    private void runSequence(final Path root, final List<Block> blocks) throws Exception {
        Path work = Files.createDirectories(root.resolve("work"));
        Path home = Files.createDirectories(root.resolve("home"));
        Path logs = Files.createDirectories(root.resolve("logs"));
        for (String dir : DocumentedCommandRewriter.SYSTEM_DIRS) {
            Files.createDirectories(root.resolve(dir));
        }
        DocumentedCommandRewriter rewriter = new DocumentedCommandRewriter(root);
        Duration timeout = DEFAULT_TIMEOUT;
        StringBuilder script = new StringBuilder(preamble(logs));
        for (Block block : blocks) {
            for (String file : block.list("files")) {
                Path image = work.resolve(rewriter.path(file));
                Files.createDirectories(image.getParent());
                RandomFiles.write(image, FIXTURE_BYTES, file.hashCode());
            }
            if (block.attributes().containsKey("timeout")) {
                timeout = Duration.ofSeconds(Long.parseLong(block.attributes().get("timeout")));
            }
            script.append("\n# ---- ").append(block).append('\n').append(rewriter.rewrite(block.text(), block.list("skip"), block.attributes().containsKey("small")));
        }
        Path runScript = Files.writeString(root.resolve("run.sh"), script);
        Path output = root.resolve("output.txt");
        ProcessBuilder builder = new ProcessBuilder("bash", runScript.toString())
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("VIRTMAN_") || k.equals("XDG_STATE_HOME"));
        env.put("HOME", home.toString());
        env.put("PATH", installVirtman(root.resolve("bin")) + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
        Process shell = builder.start();
        boolean finished = shell.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        List<String> dead = new ArrayList<>();
        try {
            if (!finished) {
                shell.descendants().forEach(ProcessHandle::destroyForcibly);
                shell.destroyForcibly();
            }
            for (String[] daemon : daemons(logs)) {
                if (ProcessHandle.of(Long.parseLong(daemon[0])).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                dead.add(daemon[1] + " exited early:\n" + tail(Files.readString(Path.of(daemon[2]))));
            }
        } finally {
            stopDaemons(logs);
        }
        String transcript = Files.readString(output, StandardCharsets.UTF_8);
        String where = blocks.getFirst().toString();
        assertThat(finished).as("%s ran within %s:\n%s", where, timeout, tail(transcript)).isTrue();
        assertThat(shell.exitValue()).as("%s exit status; transcript:\n%s\n%s", where, tail(transcript), daemonLogs(logs)).isZero();
        assertThat(dead).as("%s: daemons alive at the end of the sequence", where).isEmpty();
    }

    /** {@code vm_daemon CMD...}: start CMD in the background and wait until it says it is ready. */
    private static String preamble(final Path logs) {
        return """
                set -eo pipefail
                DT_LOGS='%s'
                DT_N=0
                vm_daemon() {
                  { set +x; } 2>/dev/null
                  DT_N=$((DT_N + 1))
                  local log="$DT_LOGS/daemon-$DT_N.log"
                  "$@" >"$log" 2>&1 &
                  local pid=$!
                  printf '%%s\\t%%s\\t%%s\\n' "$pid" "$*" "$log" >>"$DT_LOGS/daemons"
                  local deadline=$((SECONDS + 120))
                  until grep -qE '%s' "$log"; do
                    if ! kill -0 "$pid" 2>/dev/null; then echo "vm_daemon: exited before it was ready: $*" >&2; cat "$log" >&2; return 1; fi
                    if [ "$SECONDS" -ge "$deadline" ]; then echo "vm_daemon: not ready after 120 s: $*" >&2; cat "$log" >&2; return 1; fi
                    sleep 0.2
                  done
                  cat "$log"
                  set -x
                }
                set -x
                """.formatted(logs, DAEMON_READY);
    }

    /** A {@code virtman} command that runs this build (Maven's test class path), like the installed one. */
    private Path installVirtman(final Path bin) throws IOException {
        Files.createDirectories(bin);
        String java = ProcessHandle.current().info().command().orElse("java");
        String shim = "#!/bin/sh\nexec '" + java + "' -Xmx512m -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED"
                + " -Duser.home=\"$HOME\" -Dvirtman.home='" + repo + "' -cp '" + System.getProperty("java.class.path") + "'"
                + " dev.virtman.cli.VirtmanCommand \"$@\"\n";
        Path virtman = Files.writeString(bin.resolve("virtman"), shim);
        Files.setPosixFilePermissions(virtman, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    private static List<String[]> daemons(final Path logs) throws IOException {
        Path list = logs.resolve("daemons");
        if (!Files.exists(list)) {
            return List.of();
        }
        return Files.readAllLines(list).stream().filter(l -> !l.isBlank()).map(l -> l.split("\t", 3)).toList();
    }

    /** SIGTERM to every daemon (their shutdown hooks close caches and stop VMs), SIGKILL after a grace. */
    private static void stopDaemons(final Path logs) throws IOException {
        List<ProcessHandle> running = new ArrayList<>();
        for (String[] daemon : daemons(logs)) {
            ProcessHandle.of(Long.parseLong(daemon[0])).ifPresent(running::add);
        }
        running.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : running) {
            try {
                p.onExit().get(15, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    private static String daemonLogs(final Path logs) throws IOException {
        StringBuilder all = new StringBuilder();
        for (String[] daemon : daemons(logs)) {
            all.append("---- daemon ").append(daemon[1]).append(":\n").append(tail(Files.readString(Path.of(daemon[2]))));
        }
        return all.toString();
    }

    private static String tail(final String text) {
        return text.length() <= 6000 ? text : "..." + text.substring(text.length() - 6000);
    }
}
