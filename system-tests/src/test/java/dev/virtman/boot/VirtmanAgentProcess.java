package dev.virtman.boot;

import dev.virtman.manager.client.TokenFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code virtman agent} in managed mode as an operator runs it on a host: the shared launcher
 * ({@link dev.virtman.testing.VirtmanAgentProcess}, a separate JVM on this JVM's class path),
 * registered with a manager, serving one image and running the VMs the manager orders for it
 * ({@code --vm-dir}). Ready once it prints that it hosts VMs.
 */
public final class VirtmanAgentProcess implements AutoCloseable {
    private static final String READY = "hosting VMs ordered by the manager";
    /** A JVM on a 2-core machine shared with other test runs can take minutes to start. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(240);

    private final dev.virtman.testing.VirtmanAgentProcess process;
    private final String hostId;

    private VirtmanAgentProcess(final dev.virtman.testing.VirtmanAgentProcess process, final String hostId) {
        this.process = process;
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
        List<String> args = new java.util.ArrayList<>(List.of("--manager", managers,
                "--token-file", dir.resolve("enrol.token").toString(),
                "--host-id", hostId, "--portal", portal.getAddress().getHostAddress() + ":" + portal.getPort(),
                "--cache-dir", dir.resolve("cache").toString(), "--managed-image", image,
                "--vm-dir", dir.resolve("vms").toString(), "--vm-sync", "500"));
        args.addAll(extraArgs);
        try {
            Files.createDirectories(dir);
            TokenFiles.write(dir.resolve("enrol.token"), token);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start virtman agent " + hostId, e);
        }
        return new VirtmanAgentProcess(dev.virtman.testing.VirtmanAgentProcess.launch(dir.resolve("agent.log"), args,
                Map.of(), "384m"), hostId);
    }

    /** Waits until the agent says it hosts VMs; fails with its log if it exits or takes too long. */
    public VirtmanAgentProcess awaitReady() {
        process.awaitReady(READY, START_TIMEOUT);
        return this;
    }

    public String hostId() {
        return hostId;
    }

    public String log() {
        return process.log();
    }

    /** {@code kill -9}: a crash; no shutdown hook runs, its initiators' connections just drop. */
    public void kill() {
        process.kill();
    }

    /** SIGTERM: the agent's shutdown hook kills its VMs and closes its exports. */
    @Override
    public void close() {
        process.close();
    }
}
