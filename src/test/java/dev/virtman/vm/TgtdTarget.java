package dev.virtman.vm;

import dev.virtman.testing.FreePorts;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real tgtd iSCSI target exporting one file read-only as LUN 1, on a free loopback port with its
 * own control port, so tests of several helpers can run tgtd side by side. Closing kills it.
 */
final class TgtdTarget implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration TGTADM_TIMEOUT = Duration.ofSeconds(20);

    final String iqn;
    final int port;
    private final int controlPort;
    private final Process tgtd;

    private TgtdTarget(final String iqn, final int port, final int controlPort, final Process tgtd) {
        this.iqn = iqn;
        this.port = port;
        this.controlPort = controlPort;
        this.tgtd = tgtd;
    }

    static TgtdTarget export(final Path image) throws IOException, InterruptedException {
        int controlPort = FreePorts.tgtdControlPort();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String iqn = "iqn.2026-11.dev.virtman:vm-test-" + ProcessHandle.current().pid() + "-" + port;
        Process p = new ProcessBuilder("tgtd", "-f", "-C", Integer.toString(controlPort),
                "--iscsi", "portal=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        TgtdTarget t = new TgtdTarget(iqn, port, controlPort, p);
        try {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (HostCommand.runAllowingFailure(t.tgtadm("--op", "show", "--mode", "sys"), TGTADM_TIMEOUT).exitCode() != 0) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("tgtd did not start (control port " + controlPort + ")");
                }
                Thread.sleep(100);
            }
            HostCommand.run(t.tgtadm("--lld", "iscsi", "--op", "new", "--mode", "target", "--tid", "1", "-T", iqn), TGTADM_TIMEOUT);
            HostCommand.run(t.tgtadm("--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1",
                    "-b", image.toAbsolutePath().toString()), TGTADM_TIMEOUT);
            HostCommand.run(t.tgtadm("--lld", "iscsi", "--op", "update", "--mode", "logicalunit", "--tid", "1", "--lun", "1",
                    "--params", "readonly=1"), TGTADM_TIMEOUT);
            HostCommand.run(t.tgtadm("--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL"), TGTADM_TIMEOUT);
            return t;
        } catch (IOException | RuntimeException | InterruptedException e) {
            t.close();
            throw e;
        }
    }

    /** QEMU's URL of the exported LUN. */
    String lunUrl() {
        return QcowOverlays.iscsiUrl("127.0.0.1", port, iqn, 1);
    }

    private List<String> tgtadm(final String... args) {
        List<String> cmd = new ArrayList<>(List.of("tgtadm", "-C", Integer.toString(controlPort)));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Override
    public void close() throws InterruptedException {
        tgtd.destroy();
        if (!tgtd.waitFor(5, TimeUnit.SECONDS)) {
            tgtd.destroyForcibly();
            tgtd.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
