package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code virtman manager ARGS} as an operator runs it: a separate JVM (this JVM's class path) and
 * the picocli command, so option parsing, address resolution and start-up are the real ones.
 * Ready once it prints {@code manager listening on URL (token in FILE)[; source target on ADDR]}.
 */
public final class VirtmanManagerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile(
            "manager listening on (\\S+) \\(token in (\\S+)\\)(?:; source target on \\S*:(\\d+))?");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final Path log;
    private final URI url;
    private final Path tokenFile;
    private final int sourcePort;

    private VirtmanManagerProcess(final Process process, final Path log, final URI url, final Path tokenFile,
                                  final int sourcePort) {
        this.process = process;
        this.log = log;
        this.url = url;
        this.tokenFile = tokenFile;
        this.sourcePort = sourcePort;
    }

    /** Starts {@code virtman manager args...}, its output in {@code log}, and waits until it listens. */
    public static VirtmanManagerProcess start(final Path log, final List<String> args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), "dev.virtman.cli.VirtmanCommand", "manager"));
        command.addAll(args);
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start virtman manager", e);
        }
        try {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (true) {
                String text = read(log);
                Matcher m = LISTENING.matcher(text);
                if (m.find()) {
                    return new VirtmanManagerProcess(process, log, URI.create(m.group(1)), Path.of(m.group(2)),
                            m.group(3) == null ? -1 : Integer.parseInt(m.group(3)));
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("virtman manager exited with " + process.exitValue() + ":\n"
                            + Commands.tail(text));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("virtman manager not listening within " + START_TIMEOUT + ":\n"
                            + Commands.tail(text));
                }
                FreePorts.sleep(Duration.ofMillis(100));
            }
        } catch (RuntimeException e) {
            Commands.killTree(process);
            throw e;
        }
    }

    public URI url() {
        return url;
    }

    /** The admin token the manager wrote to its state directory. */
    public String token() {
        try {
            return Files.readString(tokenFile).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The source target's port, or -1 without {@code --serve-source}. */
    public int sourcePort() {
        return sourcePort;
    }

    public String log() {
        return read(log);
    }

    private static String read(final Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** SIGKILL, no shutdown hook: a crashed manager (its etcd lease lapses, it resigns nothing). */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** SIGSTOP (true) or SIGCONT (false): a manager paused as a long GC or a stalled VM pauses it. */
    public void pause(final boolean paused) {
        if (!process.isAlive()) {
            return;
        }
        Commands.Result r = Commands.run(Duration.ofSeconds(10), "kill", paused ? "-STOP" : "-CONT",
                Long.toString(process.pid()));
        if (!r.succeeded() && process.isAlive()) { // one that died meanwhile cannot be signalled, and needs not be
            throw new IllegalStateException(r.describe());
        }
    }

    /** SIGTERM: the command's shutdown hook closes the source target and the server. */
    @Override
    public void close() {
        Commands.stop(process, STOP_TIMEOUT);
    }
}
