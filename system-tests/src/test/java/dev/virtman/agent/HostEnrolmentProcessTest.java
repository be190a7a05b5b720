package dev.virtman.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.manager.auth.Principal;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.TokenFiles;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import java.net.InetSocketAddress;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.testing.Commands;
import dev.virtman.testing.FreePorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code virtman agent} in its own JVM, as docs/agent.md starts it (issue 12, "every local user
 * sees the token in ps"): the enrolment token comes from a 0600 file, the agent enrols and keeps
 * its own host token in a 0600 file, and neither token ever appears in the process's command line
 * ({@code /proc/PID/cmdline}, what {@code ps} shows). A second start needs no bootstrap token.
 */
class HostEnrolmentProcessTest {

    /** A JVM on a 2-core machine shared with other test runs can take minutes to start. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(240);

    @TempDir
    Path tmp;

    @Test
    void theAgentEnrolsFromATokenFileAndNoTokenIsInItsCommandLine() throws Exception {
        try (ManagerServer manager = ManagerServer.start(
                ManagerConfig.defaults(new StateDir(tmp.resolve("state"))).withListen(new InetSocketAddress("127.0.0.1", 0)))) {
            Path enrolFile = tmp.resolve("enrol-token");
            TokenFiles.write(enrolFile, manager.enrolmentToken());
            Path cache = tmp.resolve("cache");
            int port = FreePorts.loopbackPort();
            List<String> args = new ArrayList<>(List.of("--manager", manager.url().toString(),
                    "--token-file", enrolFile.toString(), "--host-id", "compute-7",
                    "--portal", "127.0.0.1:" + port, "--cache-dir", cache.toString()));
            ManagerClient admin = new ManagerClient(manager.url(), manager.token());

            Process first = start(args, tmp.resolve("agent-1.log"));
            Path hostTokenFile = cache.resolve("host-compute-7.token");
            String hostToken;
            try {
                awaitReady(first, tmp.resolve("agent-1.log"));
                String cmdline = cmdline(first);
                assertThat(cmdline).contains("--token-file").contains("compute-7");
                hostToken = TokenFiles.read(hostTokenFile);
                assertThat(cmdline).doesNotContain(manager.enrolmentToken()).doesNotContain(manager.token())
                        .doesNotContain(hostToken);
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(hostTokenFile)))
                        .isEqualTo("rw-------");
                assertThat(manager.credentials().authenticate(hostToken)).isEqualTo(Principal.host("compute-7"));
                assertThat(admin.host("compute-7").address()).isEqualTo("127.0.0.1:" + port);
            } finally {
                stop(first);
            }

            // Enrolled: it starts again with its own host token alone, and does not re-enrol.
            List<String> noBootstrap = new ArrayList<>(args.subList(0, 2));
            noBootstrap.addAll(args.subList(4, args.size()));
            Process second = start(noBootstrap, tmp.resolve("agent-2.log"));
            try {
                awaitReady(second, tmp.resolve("agent-2.log"));
                assertThat(TokenFiles.read(hostTokenFile)).isEqualTo(hostToken);
            } finally {
                stop(second);
            }

            // The admin rotates the host's credential: the stored one is refused, with a message
            // that says how to enrol again, rather than an agent retrying forever.
            manager.credentials().enrol(Principal.ADMIN, "compute-7");
            Process third = start(noBootstrap, tmp.resolve("agent-3.log"));
            try {
                assertThat(third.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(third.exitValue()).isNotZero();
                assertThat(Files.readString(tmp.resolve("agent-3.log")))
                        .contains("rejects the credential of host compute-7").contains("--token-file");
            } finally {
                stop(third);
            }
        }
    }

    private static Process start(final List<String> args, final Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                "dev.virtman.cli.VirtmanCommand", "agent"));
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    }

    /** Waits for the agent's ready line (it has enrolled, registered and heartbeats). */
    private static void awaitReady(final Process agent, final Path log) throws IOException, InterruptedException {
        String ready = "agent ready: portal=";
        try {
            Await.until(() -> !agent.isAlive() || read(log).contains(ready), START_TIMEOUT, "the agent's ready line");
        } catch (AssertionError e) {
            throw new AssertionError("agent not ready:\n" + Commands.tail(Files.readString(log)), e);
        }
        if (!read(log).contains(ready)) {
            throw new AssertionError("agent exited before it was ready:\n" + Commands.tail(Files.readString(log)));
        }
    }

    private static String read(final Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What ps shows: the NUL-separated argv of the process. */
    private static String cmdline(final Process p) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")),
                StandardCharsets.UTF_8).replace('\0', ' ');
    }

    private static void stop(final Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            Commands.killTree(p);
        }
    }
}
