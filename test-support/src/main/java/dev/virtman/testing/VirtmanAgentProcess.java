package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code virtman agent ARGS} as an operator runs it: a separate JVM (this JVM's class path) and the
 * picocli command, so option parsing (and the {@code --config} file), enrolment and fail-over are
 * the real ones. Ready once it prints {@code agent ready: portal=...}.
 */
public final class VirtmanAgentProcess implements AutoCloseable {
    private static final String READY = "agent ready: portal=";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final Path log;

    private VirtmanAgentProcess(final Process process, final Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code virtman agent args...} with {@code env} added, output in {@code log}; waits until ready. */
    public static VirtmanAgentProcess start(final Path log, final List<String> args, final Map<String, String> env) {
        return launch(log, args, env, "256m").awaitReady(READY, START_TIMEOUT);
    }

    /**
     * Starts {@code virtman agent args...} without waiting for it; {@link #awaitReady} waits (start
     * several, then wait, so their JVMs start in parallel).
     *
     * @param maxHeap the child JVM's {@code -Xmx}
     */
    public static VirtmanAgentProcess launch(final Path log, final List<String> args, final Map<String, String> env,
                                             final String maxHeap) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx" + maxHeap, "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), "dev.virtman.cli.VirtmanCommand", "agent"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().putAll(env);
        try {
            return new VirtmanAgentProcess(builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start virtman agent", e);
        }
    }

    /**
     * Waits until the log shows {@code readyLine}; kills the agent and fails with its log's tail if
     * it exits first or takes longer than {@code limit}.
     */
    public VirtmanAgentProcess awaitReady(final String readyLine, final Duration limit) {
        try {
            Await.until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("virtman agent exited with " + process.exitValue() + ":\n"
                            + Commands.tail(log()));
                }
                return log().contains(readyLine);
            }, limit, "virtman agent ready (log " + log + ")");
            return this;
        } catch (RuntimeException | AssertionError e) {
            Commands.killTree(process);
            throw e;
        }
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** {@code kill -9}: a crash; no shutdown hook runs, its initiators' connections just drop. */
    public void kill() {
        Commands.crash(process, STOP_TIMEOUT);
    }

    /** SIGTERM, then SIGKILL after a grace period. */
    @Override
    public void close() {
        Commands.stop(process, STOP_TIMEOUT);
    }
}
