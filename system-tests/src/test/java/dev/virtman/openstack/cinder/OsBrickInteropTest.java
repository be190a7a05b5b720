package dev.virtman.openstack.cinder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.agent.ManagedAgent;
import dev.virtman.agent.ManagedAgentConfig;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.SourceExports;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.GuestIscsi;
import dev.virtman.testing.GuestShell;
import dev.virtman.testing.LinuxStackGuest;
import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nova's attach path for a VirtMan Cinder volume, with the real pieces: the VirtMan Cinder driver
 * ({@code openstack/cinder/virtman_cinder}, unchanged, under Debian's python3-cinder on the host)
 * creates a blank volume and answers {@code initialize_connection} for the connector os-brick
 * reports in the Debian guest; os-brick's {@code ISCSIConnector} in the guest then
 * {@code connect_volume}s with exactly those properties (CHAP included), the test writes,
 * {@code disconnect_volume}s, connects again and reads its bytes back. The guest is the compute
 * node: its agent (in this JVM, managed, host id = the guest's hostname) advertises the portal the
 * guest reaches it at ({@code --advertise}, here 10.0.2.2 through QEMU's user network).
 */
@Tag("interop")
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class OsBrickInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The guest's hostname: os-brick puts it in the connector, the manager places volumes by it. */
    private static final String COMPUTE = "virtman-linuxstack";
    private static final Duration HEARTBEAT = Duration.ofMillis(500);
    private static final Duration STEP = Duration.ofMinutes(4);
    /** What Nova's compute service sets up before it uses os-brick, for a root process. */
    private static final String OS_BRICK = "from oslo_concurrency import lockutils\n"
            + "lockutils.set_defaults(lock_path='/run/os-brick-locks')  # Nova: [oslo_concurrency] lock_path\n"
            + "from os_brick import privileged\n"
            + "privileged.default.set_client_mode(False)  # root already: no privsep daemon\n"
            + "from os_brick.initiator import connector\n"
            + "import json\n";

    @TempDir
    Path dir;

    @Test
    void connectWriteDisconnectConnectReadBackWithTheDriversProperties() throws Exception {
        LinuxStackGuest guest = LinuxStackGuest.shared();
        new GuestIscsi(guest).reset();
        int sourcePort = FreePorts.loopbackPort();
        ManagerConfig managerConfig = ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePort, Locality.UNKNOWN)
                .withHeartbeat(HEARTBEAT, HEARTBEAT.multipliedBy(20));
        int agentPort = FreePorts.loopbackPort();
        String volumeId = UUID.randomUUID().toString();
        try (ManagerServer manager = ManagerServer.start(managerConfig);
             SourceExports source = SourceExports.start(manager.manager(), new InetSocketAddress("127.0.0.1", sourcePort));
             ManagedAgent agent = ManagedAgent.start(new ManagedAgentConfig(manager.url(), manager.token(), COMPUTE,
                     List.of(), new InetSocketAddress("127.0.0.1", agentPort), null, dir.resolve("agent"),
                     0, 0, null, STEP, Duration.ofSeconds(1))
                     .withAdvertisedPortal(new InetSocketAddress(LinuxStackGuest.HOST, agentPort)))) {
            // The connector, as Nova's compute manager gets it from os-brick on the compute node.
            String connector = guest.check("python3 - <<'EOF'\n" + OS_BRICK
                    + "print(json.dumps(connector.get_connector_properties(None, '10.0.2.15', False, False)))\nEOF", STEP);
            JsonNode c = JSON.readTree(connector);
            assertThat(c.path("host").asText()).isEqualTo(COMPUTE);
            assertThat(c.path("initiator").asText()).isEqualTo(LinuxStackGuest.INITIATOR_IQN);
            Path connectorFile = dir.resolve("connector.json");
            Files.writeString(connectorFile, connector);

            driver(manager, "create", volumeId);
            JsonNode info = JSON.readTree(driver(manager, "connect", volumeId, connectorFile.toString()));
            assertThat(info.path("driver_volume_type").asText()).isEqualTo("iscsi");
            JsonNode data = info.path("data");
            assertThat(data.path("target_portal").asText()).isEqualTo(LinuxStackGuest.HOST + ":" + agentPort);
            assertThat(data.path("auth_method").asText()).isEqualTo("CHAP");
            assertThat(data.path("target_discovered").asBoolean(true)).isFalse();

            String props = "cat > /run/osbrick-props.json <<'EOF'\n" + JSON.writeValueAsString(data) + "\nEOF\n";
            String connect = props + "python3 - <<'EOF'\n" + OS_BRICK
                    + "props = json.load(open('/run/osbrick-props.json'))\n"
                    + "c = connector.InitiatorConnector.factory('ISCSI', None, use_multipath=False, device_scan_attempts=10)\n"
                    + "info = c.connect_volume(props)\n"
                    + "json.dump(info, open('/run/osbrick-device.json', 'w'))\n"
                    + "print(info['path'])\nEOF";
            String disconnect = "python3 - <<'EOF'\n" + OS_BRICK
                    + "props = json.load(open('/run/osbrick-props.json'))\n"
                    + "info = json.load(open('/run/osbrick-device.json'))\n"
                    + "c = connector.InitiatorConnector.factory('ISCSI', None, use_multipath=False)\n"
                    + "c.disconnect_volume(props, info)\nEOF\n"
                    + "iscsiadm -m session 2>&1 || true";

            String path = lastLine(guest.check(connect, STEP));
            assertThat(guest.check("blockdev --getsize64 $(readlink -f " + path + ")", STEP).strip())
                    .isEqualTo(Long.toString(1L << 30));
            String written = guest.check("set -e; head -c 4194304 /dev/urandom > /run/blob; "
                    + "dd if=/run/blob of=" + path + " bs=1M seek=1 oflag=direct conv=fsync status=none; "
                    + "sha256sum /run/blob | cut -d' ' -f1", STEP).strip();
            assertThat(checkOrDiagnose(guest, disconnect)).as("os-brick logged the session out").contains("No active sessions");

            String again = lastLine(guest.check(connect, STEP));
            String read = guest.check("dd if=" + again + " bs=1M skip=1 count=4 iflag=direct status=none "
                    + "| sha256sum | cut -d' ' -f1", STEP).strip();
            assertThat(read).as("the bytes written before disconnect_volume").isEqualTo(written);
            assertThat(agent.volumes()).containsKey(volumeId);
            checkOrDiagnose(guest, disconnect);
            driver(manager, "delete", volumeId);
        } finally {
            guest.run("iscsiadm -m node --logoutall=all; iscsiadm -m node -o delete; rm -f /run/osbrick-* /run/blob", STEP);
        }
    }

    /** Runs {@code script}; on failure, fails with what the guest's kernel and processes were doing. */
    private static String checkOrDiagnose(final LinuxStackGuest guest, final String script) {
        GuestShell.Result r = guest.run(script, Duration.ofSeconds(150));
        if (!r.succeeded()) {
            String diag = guest.run("ps -eo pid,stat,wchan:30,args | grep -v ' \\[' ; dmesg | tail -n 60; "
                    + "iscsiadm -m session -P 3 2>&1 | head -n 60", STEP).stdout();
            throw new AssertionError(r.describe() + "\n--- guest state:\n" + diag);
        }
        return r.stdout();
    }

    private static String lastLine(final String out) {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    /** Runs the driver on the host (token and URL in the environment, not argv); returns stdout. */
    private String driver(final ManagerServer manager, final String... args) throws IOException, InterruptedException {
        Path script = dir.resolve("cinder_connection_info.py");
        if (!Files.exists(script)) {
            try (InputStream in = OsBrickInteropTest.class.getResourceAsStream("cinder_connection_info.py")) {
                Files.copy(in, script);
            }
        }
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script.toString(),
                ProjectPaths.root().resolve("openstack/cinder").toString()));
        command.addAll(List.of(args));
        Path out = dir.resolve("driver.out");
        Path err = dir.resolve("driver.err");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("VIRTMAN_MANAGER_URL", manager.url().toString());
        pb.environment().put("VIRTMAN_API_TOKEN", manager.token());
        Process p = pb.start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("the Cinder driver did not finish " + String.join(" ", args));
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("driver %s:\n%s\n%s", String.join(" ", args), stdout, Files.readString(err)).isZero();
        return stdout;
    }
}
