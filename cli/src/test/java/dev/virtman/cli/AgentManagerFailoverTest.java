package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.testing.Await;
import dev.virtman.testing.EtcdCluster;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.VirtmanAgentProcess;
import dev.virtman.testing.VirtmanManagerProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code virtman agent} with two manager URLs (issue 13): two {@code virtman manager --etcd}
 * processes over HTTPS (certificates from {@code virtman certs}) share one etcd member; the agent
 * process gets both URLs from its {@code --config} file (a TOML list) and the CA from
 * {@code $VIRTMAN_CA_FILE}. The first manager leads and is killed with SIGKILL: the agent's
 * stream moves to the second, which takes over, and the host stays alive there for well over a
 * heartbeat timeout (a host whose stream stayed silent would be failed after it).
 */
@Tag("interop")
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class AgentManagerFailoverTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    @Test
    void agentFollowsTheClusterWhenTheManagerItUsesIsKilled() throws Exception {
        Path tls = tmp.resolve("tls");
        assertThat(run("certs", "--dir", tls.toString(), "--server", "127.0.0.1")).isZero();
        String admin = "admin-" + Long.toHexString(System.nanoTime()) + "x".repeat(20);
        String enrol = "enrol-" + Long.toHexString(System.nanoTime()) + "y".repeat(20);
        List<VirtmanManagerProcess> managers = new ArrayList<>();
        try (EtcdCluster etcd = EtcdCluster.start(1, tmp.resolve("etcd"))) {
            for (int i = 0; i < 2; i++) {
                Path state = Files.createDirectories(tmp.resolve("state-" + i));
                FileModes.writePrivate(state.resolve("token"), admin + "\n");
                FileModes.writePrivate(state.resolve("enrol-token"), enrol + "\n");
                managers.add(VirtmanManagerProcess.start(tmp.resolve("manager-" + i + ".log"), List.of(
                        "--listen", "127.0.0.1:0", "--state-dir", state.toString(), "--etcd", etcd.endpoints(),
                        "--tls-cert", tls.resolve("server.pem").toString(),
                        "--tls-key", tls.resolve("server.key").toString(),
                        "--heartbeat-interval", "300ms", "--heartbeat-timeout", TIMEOUT.toMillis() + "ms")));
                if (i == 0) {
                    // the first one started leads: the agent's first URL is the leader
                    Await.until("manager 0 to lead", Duration.ofSeconds(20), () -> client(managers.get(0), tls, admin)
                            .cluster(), c -> managers.get(0).url().toString().equals(c.leader()));
                }
            }
            URI first = managers.get(0).url();
            URI second = managers.get(1).url();
            assertThat(first.getScheme()).isEqualTo("https");

            Path tokenFile = FileModes.writePrivate(tmp.resolve("enrol.token"), enrol + "\n");
            Path config = tmp.resolve("agent.toml");
            Files.writeString(config, "manager = [\"" + first + "\", \"" + second + "\"]\n"
                    + "host-id = \"h1\"\n"
                    + "portal = \"127.0.0.2:" + FreePorts.loopbackPort() + "\"\n"
                    + "cache-dir = \"" + tmp.resolve("cache") + "\"\n"
                    + "token-file = \"" + tokenFile + "\"\n"
                    + "scrub-rate = \"0\"\n");
            try (VirtmanAgentProcess agent = VirtmanAgentProcess.start(tmp.resolve("agent.log"),
                    List.of("--config", config.toString()),
                    Map.of(ManagerClient.ENV_CA_FILE, tls.resolve("ca.pem").toString()))) {
                ManagerClient leader = client(managers.get(0), tls, admin);
                Await.until("h1 alive at the leader", Duration.ofSeconds(20), () -> leader.host("h1"),
                        h -> h.state().equals("alive") && h.lastSeenMillisAgo() >= 0
                                && h.lastSeenMillisAgo() < TIMEOUT.toMillis());

                long killed = System.nanoTime();
                managers.get(0).kill();
                ManagerClient survivor = client(managers.get(1), tls, admin);
                Await.until("manager 1 to lead", Duration.ofSeconds(20), survivor::cluster,
                        c -> second.toString().equals(c.leader()));
                // The grace period gives h1 one timeout from the election; through three more the
                // host stays alive only if its agent's pings reach the new leader. Every look
                // must find it alive and recently heard.
                long watchUntil = System.nanoTime() + TIMEOUT.multipliedBy(3).toNanos();
                Await.until(() -> {
                    HostView h = survivor.host("h1");
                    assertThat(h.state()).as("h1 after the fail-over; agent log:\n%s", agent.log()).isEqualTo("alive");
                    return System.nanoTime() > watchUntil && h.lastSeenMillisAgo() >= 0
                            && h.lastSeenMillisAgo() < TIMEOUT.toMillis();
                }, TIMEOUT.multipliedBy(6), "h1 heard by the new leader for three heartbeat timeouts");
                assertThat(agent.alive()).isTrue();
                assertThat(agent.log()).contains(second.toString());
                System.out.printf("agent fail-over: h1 alive at the new leader %d ms after the kill%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
            }
        } finally {
            managers.forEach(VirtmanManagerProcess::kill);
        }
    }

    private static ManagerClient client(final VirtmanManagerProcess manager, final Path tls, final String token) {
        return new ManagerClient(List.of(manager.url()), token, Duration.ofSeconds(8),
                ManagerClient.trust(tls.resolve("ca.pem")));
    }

    private static int run(final String... args) {
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        cl.setOut(new PrintWriter(new StringWriter()));
        return cl.execute(args);
    }
}
