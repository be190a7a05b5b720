package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external program with a hard time limit and captures its output. Output goes to a
 * temporary file rather than a pipe, so a chatty program (iscsi-test-cu prints megabytes) never
 * blocks on a full pipe while we wait for it. A program that overruns its limit is killed with
 * all of its descendants.
 */
public final class Commands {
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);
    private static final int OUTPUT_TAIL_CHARS = 4000;

    private Commands() {
    }

    /**
     * The outcome of one run.
     *
     * @param command  the argument vector
     * @param exitCode the exit status, or -1 when the run timed out
     * @param timedOut whether the program was killed for overrunning its limit
     * @param output   standard output and standard error, interleaved
     * @param elapsed  wall-clock time of the run
     */
    public record Result(List<String> command, int exitCode, boolean timedOut, String output, Duration elapsed) {

        public boolean succeeded() {
            return !timedOut && exitCode == 0;
        }

        /** Returns this result, or throws with the command and its output's tail if it failed. */
        public Result requireSuccess() {
            if (!succeeded()) {
                throw new IllegalStateException(describe());
            }
            return this;
        }

        public String describe() {
            String status = timedOut ? "timed out after " + elapsed : "exited with " + exitCode;
            return String.join(" ", command) + " " + status + "; output tail:\n" + tail(output);
        }
    }

    /** Runs {@code command} in the current directory; see {@link #run(Duration, Path, List)}. */
    public static Result run(final Duration timeout, final String... command) {
        return run(timeout, null, List.of(command));
    }

    /**
     * Runs {@code command} in {@code workDir} (or the current directory when null), waiting at most
     * {@code timeout}. Standard input is empty.
     */
    public static Result run(final Duration timeout, final Path workDir, final List<String> command) {
        Path outputFile = null;
        try {
            outputFile = Files.createTempFile("virtman-cmd-", ".out");
            ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command))
                    .redirectErrorStream(true)
                    .redirectOutput(outputFile.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            if (workDir != null) {
                builder.directory(workDir.toFile());
            }
            long start = System.nanoTime();
            Process process = builder.start();
            boolean finished;
            try {
                finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                killTree(process);
                throw new IllegalStateException("interrupted while running " + command, e);
            }
            if (!finished) {
                killTree(process);
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            String output = Files.readString(outputFile, StandardCharsets.UTF_8);
            return new Result(List.copyOf(command), finished ? process.exitValue() : -1, !finished, output, elapsed);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } finally {
            deleteQuietly(outputFile);
        }
    }

    /** SIGTERM to {@code process} alone (its shutdown hook cleans up), then {@link #killTree} if it outlives {@code grace}. */
    public static void stop(final Process process, final Duration grace) {
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(process);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killTree(process);
        }
    }

    /** SIGKILL to {@code process}, as a crash (no shutdown hook runs), and waits up to {@code limit} for it to go. */
    public static void crash(final Process process, final Duration limit) {
        process.destroyForcibly();
        try {
            process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills {@code process} and everything it started: SIGTERM, a short grace, then SIGKILL. */
    public static void killTree(final Process process) {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + KILL_GRACE.toNanos();
        for (ProcessHandle handle : all) {
            long left = deadline - System.nanoTime();
            try {
                handle.onExit().get(Math.max(left, 0), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                handle.destroyForcibly();
            }
        }
        try {
            process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last few thousand characters of {@code text}: enough context for a failure message. */
    public static String tail(final String text) {
        return text.length() <= OUTPUT_TAIL_CHARS ? text : "..." + text.substring(text.length() - OUTPUT_TAIL_CHARS);
    }

    private static void deleteQuietly(final Path path) {
        if (path == null) {
            return;
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a leftover temp file is harmless
        }
    }
}
