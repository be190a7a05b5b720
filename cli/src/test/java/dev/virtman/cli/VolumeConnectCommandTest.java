package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.testing.FileModes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code virtman volume connect} prints a URL only once the host's agent exports the LUN (issue
 * 18, item 6): a URL printed earlier made QEMU fail when used at once.
 */
class VolumeConnectCommandTest {
    private static final String HOST = "compute-1";
    private static final String VOLUME = "vol-1";

    @TempDir
    Path dir;
    private ManagerServer manager;
    private ManagerClient client;

    @BeforeEach
    void setUp() throws Exception {
        manager = ManagerServer.start(ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withListen(new InetSocketAddress("127.0.0.1", 0)));
        client = new ManagerClient(manager.url(), manager.token());
        client.registerHost(HOST, "127.0.0.2:3260", Labels.NONE);
        client.createVolume(new CreateVolumeRequest(VOLUME, null, null, HOST, 1 << 20));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void aLunNeverExportedGivesNoUrlAndExitsOneWithTheReason() {
        Run run = connect("--wait", "1");
        assertThat(run.exit).isEqualTo(1);
        assertThat(run.out).doesNotContain("iscsi://");
        assertThat(run.err).contains("did not export it within 1 s").contains("--host-id " + HOST);
    }

    @Test
    void anExportedLunGivesItsUrl() {
        exportedByTheAgent();
        Run run = connect("--wait", "1");
        assertThat(run.exit).as(run.err).isZero();
        assertThat(run.out).contains("exported yes").containsPattern("url +iscsi://[^%]+%[^@]+@127\\.0\\.0\\.2:3260/iqn\\.");
    }

    @Test
    void theCommandWaitsForTheAgentsNextHeartbeat() throws Exception {
        CompletableFuture<Run> pending = CompletableFuture.supplyAsync(() -> connect("--wait", "60"));
        exportedByTheAgent();
        Run run = pending.get(60, TimeUnit.SECONDS);
        assertThat(run.exit).as(run.err).isZero();
        assertThat(run.out).contains("url ");
    }

    private void exportedByTheAgent() {
        client.heartbeat(HOST, new HeartbeatRequest(HOST, Map.of(), List.of(VOLUME)));
    }

    private record Run(int exit, String out, String err) { }

    private Run connect(final String... extra) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> args = new java.util.ArrayList<>(List.of("volume", "connect", VOLUME, HOST,
                "--manager", manager.url().toString(), "--token-file", tokenFile(manager).toString()));
        args.addAll(List.of(extra));
        int exit = cl.execute(args.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }
    /** The admin token in a 0600 file: commands take tokens from files, never from argv. */
    private Path tokenFile(final ManagerServer manager) {
        Path file = dir.resolve("admin.token");
        return java.nio.file.Files.exists(file) ? file : FileModes.writePrivate(file, manager.token() + "\n");
    }
}
