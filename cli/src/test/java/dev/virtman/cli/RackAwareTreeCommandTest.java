package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.agent.ManagedAgent;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.RandomFiles;
import dev.virtman.testing.FileModes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A rack-aware tree built from the command line: agents started with {@code virtman agent ...
 * --rack R --zone Z} register their labels, the planner puts a joiner under a parent of its own
 * rack, and {@code virtman hosts} and {@code virtman tree} show the labels.
 */
class RackAwareTreeCommandTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(300);

    @TempDir
    Path dir;

    @Test
    void joinersGoUnderAParentOfTheirOwnRack() throws Exception {
        Path image = RandomFiles.write(dir.resolve("disk.raw"), 1 << 20, 3);
        ManagerConfig config = ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLimits(new TreeLimits(2, 2, 8))
                .withSource("127.0.0.1:" + FreePorts.loopbackPort(), Locality.UNKNOWN)
                .withHeartbeat(HEARTBEAT, HEARTBEAT.multipliedBy(20))
                .withImageDirs(List.of(dir));
        List<ManagedAgent> agents = new ArrayList<>();
        try (ManagerServer manager = ManagerServer.start(config)) {
            new ManagerClient(manager.url(), manager.token()).registerImage("disk", image.toString());
            // a1 and b1 fill the source's two slots; b2 must pick b1 over a1 (same rack), a2 then a1.
            for (String[] host : new String[][] {{"a1", "rack-a"}, {"b1", "rack-b"}, {"b2", "rack-b"}, {"a2", "rack-a"}}) {
                agents.add(ManagedAgent.start(agentCommand(manager, host[0], host[1]).managedConfig()));
            }
            String tree = cli(manager, "tree", "disk");
            assertThat(tree).contains("""
                    source
                      a1 127.0.0.2:""").containsPattern("\n    a2 127\\.0\\.0\\.2:\\d+ \\[rack rack-a, zone z1\\]\n")
                    .containsPattern("\n  b1 127\\.0\\.0\\.2:\\d+ \\[rack rack-b, zone z1\\]\n"
                            + "    b2 127\\.0\\.0\\.2:\\d+ \\[rack rack-b, zone z1\\]\n");
            assertThat(cli(manager, "hosts")).containsPattern("b2 +127\\.0\\.0\\.2:\\d+ +rack-b +z1 ");
        } finally {
            for (ManagedAgent agent : agents) {
                agent.close();
            }
        }
    }

    private AgentCommand agentCommand(final ManagerServer manager, final String host, final String rack) {
        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--manager", manager.url().toString(), "--token-file", tokenFile(manager).toString(),
                "--host-id", host, "--portal", "127.0.0.2:" + FreePorts.loopbackPort(),
                "--cache-dir", dir.resolve("cache-" + host).toString(), "--managed-image", "disk",
                "--rack", rack, "--zone", "z1");
        return cmd;
    }

    private String cli(final ManagerServer manager, final String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--manager", manager.url().toString(), "--token-file", tokenFile(manager).toString()));
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute(all.toArray(String[]::new))).as("virtman %s", all).isZero();
        return out.toString();
    }
    /** The admin token in a 0600 file: commands take tokens from files, never from argv. */
    private Path tokenFile(final ManagerServer manager) {
        Path file = dir.resolve("admin.token");
        return java.nio.file.Files.exists(file) ? file : FileModes.writePrivate(file, manager.token() + "\n");
    }
}
