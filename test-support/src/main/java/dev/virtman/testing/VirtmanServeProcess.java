package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code virtman serve} as an operator runs it: a separate JVM, the picocli command, an ephemeral
 * loopback portal ({@code --portal 127.0.0.1:0}). The port comes from the line the command prints
 * once it listens ({@code virtman: serving ... iscsi://127.0.0.1:PORT/IQN/0}). It runs on this
 * JVM's class path (Maven's test class path), so it needs no packaged jar.
 */
public final class VirtmanServeProcess implements IscsiTargetUnderTest {
    private static final Pattern SERVING = Pattern.compile("virtman: serving .* iscsi://127\\.0\\.0\\.1:(\\d+)/");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Process process;
    private final Path log;
    private final String iqn;
    private final int port;

    private VirtmanServeProcess(final Process process, final Path log, final String iqn, final int port) {
        this.process = process;
        this.log = log;
        this.iqn = iqn;
        this.port = port;
    }

    public static VirtmanServeProcess start(final Path image, final String iqn, final boolean writable) {
        return start(image, iqn, writable, "127.0.0.1:0", List.of());
    }

    /**
     * @param portal    {@code --portal}, e.g. a fixed port to restart on
     * @param extraArgs further options, e.g. {@code --advertise 10.0.2.2:PORT}
     */
    public static VirtmanServeProcess start(final Path image, final String iqn, final boolean writable,
                                            final String portal, final List<String> extraArgs) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"),
                "dev.virtman.cli.VirtmanCommand", "serve", "--portal", portal, "--iqn", iqn));
        if (writable) {
            command.add("--read-write");
        }
        command.addAll(extraArgs);
        command.add(image.toAbsolutePath().toString());
        Process process = null;
        Path log = null;
        try {
            log = Files.createTempFile("virtman-serve-", ".log");
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            int port = awaitPort(process, log);
            return new VirtmanServeProcess(process, log, iqn, port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start virtman serve", e);
        } catch (RuntimeException e) {
            if (process != null) {
                Commands.killTree(process);
            }
            throw e;
        }
    }

    private static int awaitPort(final Process process, final Path log) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            Matcher m = SERVING.matcher(text);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("virtman serve exited with " + process.exitValue() + ":\n" + Commands.tail(text));
            }
            FreePorts.sleep(Duration.ofMillis(100));
        }
        throw new IllegalStateException("virtman serve did not report its portal within " + START_TIMEOUT
                + ":\n" + Commands.tail(Files.readString(log)));
    }

    @Override
    public String name() {
        return "virtman-serve";
    }

    @Override
    public int portalPort() {
        return port;
    }

    @Override
    public String iqn() {
        return iqn;
    }

    @Override
    public int diskLun() {
        return 0; // virtman serve exports its one image as LUN 0
    }

    /** SIGKILL, as a crash: no shutdown hook runs, the connections just drop. */
    public void kill() {
        Commands.crash(process, STOP_TIMEOUT);
    }

    /** SIGTERM: the command's shutdown hook closes the server and the images. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(log);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } catch (IOException ignored) {
            // a leftover log file is harmless
        }
    }

    @Override
    public String toString() {
        return "virtman serve(pid " + process.pid() + ", " + url() + ")";
    }
}
