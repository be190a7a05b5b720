package dev.virtman.boot;

import dev.virtman.manager.client.TokenFiles;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code virtman agent} in managed mode as an operator runs it on a host: a separate JVM (this
 * JVM's class path), registered with a manager, serving one image and running the VMs the manager
 * orders for it ({@code --vm-dir}). Ready once it prints that it hosts VMs.
 */
public final class VirtmanAgentProcess implements AutoCloseable {
    private static final String READY = "hosting VMs ordered by the manager";
    /** A JVM on a 2-core machine shared with other test runs can take minutes to start. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(240);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final Path log;
    private final String hostId;

    private VirtmanAgentProcess(final Process process, final Path log, final String hostId) {
        this.process = process;
        this.log = log;
        this.hostId = hostId;
    }

    /**
     * Launches the agent; {@link #awaitReady} waits until it hosts VMs (start several, then wait,
     * so their JVMs start in parallel).
     *
     * @param token  the manager's enrolment (or admin) token, handed over in a 0600 file
     * @param portal a free address on the host's loopback address (managed agents need a fixed port)
     */
    public static VirtmanAgentProcess launch(final URI manager, final String token, final String hostId,
                                             final InetSocketAddress portal, final String image, final Path dir) {
        return launch(manager, token, hostId, portal, image, dir, List.of());
    }

    /** @param extraArgs further {@code virtman agent} options, e.g. {@code --advertise HOST:PORT} */
    public static VirtmanAgentProcess launch(final URI manager, final String token, final String hostId,
                                             final InetSocketAddress portal, final String image, final Path dir,
                                             final List<String> extraArgs) {
        return launch(manager.toString(), token, hostId, portal, image, dir, extraArgs);
    }

    /** @param managers {@code --manager}: one URL, or the URLs of one cluster's managers separated by commas */
    public static VirtmanAgentProcess launch(final String managers, final String token, final String hostId,
                                             final InetSocketAddress portal, final String image, final Path dir,
                                             final List<String> extraArgs) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"),
                "dev.virtman.cli.VirtmanCommand", "agent", "--manager", managers, "--token-file", dir.resolve("enrol.token").toString(),
                "--host-id", hostId, "--portal", portal.getAddress().getHostAddress() + ":" + portal.getPort(),
                "--cache-dir", dir.resolve("cache").toString(), "--managed-image", image,
                "--vm-dir", dir.resolve("vms").toString(), "--vm-sync", "500"));
        command.addAll(extraArgs);
        try {
            Files.createDirectories(dir);
            TokenFiles.write(dir.resolve("enrol.token"), token);
            Path log = dir.resolve("agent.log");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            return new VirtmanAgentProcess(process, log, hostId);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start virtman agent " + hostId, e);
        }
    }

    /** Waits until the agent says it hosts VMs; fails with its log if it exits or takes too long. */
    public VirtmanAgentProcess awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!log().contains(READY)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("agent " + hostId + " exited with " + process.exitValue() + ":\n"
                        + Commands.tail(log()));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("agent " + hostId + " not ready within " + START_TIMEOUT + ":\n"
                        + Commands.tail(log()));
            }
            FreePorts.sleep(Duration.ofMillis(200));
        }
        return this;
    }

    public String hostId() {
        return hostId;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** {@code kill -9}: a crash; no shutdown hook runs, its initiators' connections just drop. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM: the agent's shutdown hook kills its VMs and closes its exports. */
    @Override
    public void close() {
        Commands.stop(process, STOP_TIMEOUT);
    }
}
