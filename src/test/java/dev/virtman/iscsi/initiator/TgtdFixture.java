package dev.virtman.iscsi.initiator;

import dev.virtman.testing.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real tgtd (the Linux SCSI target framework daemon) on loopback for interop tests: its own
 * control port (so parallel test runs do not collide), a free iSCSI port, one target with the
 * given image as LUN 1 (LUN 0 is tgtd's controller), optional CHAP accounts. Can be killed,
 * restarted on the same port, stopped and continued.
 */
final class TgtdFixture implements AutoCloseable {

    static final String TGTD = "/usr/sbin/tgtd";
    static final String TGTADM = "/usr/sbin/tgtadm";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 5;

    final String iqn;
    final Path image;
    final Path log;
    int port;
    int controlPort;
    private Process process;
    private final List<String[]> accounts = new ArrayList<>();

    private TgtdFixture(final String iqn, final Path image, final Path log) {
        this.iqn = iqn;
        this.image = image;
        this.log = log;
    }

    static boolean available() {
        return Files.isExecutable(Path.of(TGTD)) && Files.isExecutable(Path.of(TGTADM));
    }

    /** Starts tgtd exporting {@code image} as LUN 1 of {@code iqn}. */
    static TgtdFixture start(final String iqn, final Path image, final Path workDir) throws IOException,
            InterruptedException {
        TgtdFixture f = new TgtdFixture(iqn, image, workDir.resolve("tgtd.log"));
        f.port = freePort();
        IOException last = null;
        for (int i = 0; i < START_ATTEMPTS; i++) {
            f.controlPort = FreePorts.tgtdControlPort();
            try {
                f.launch();
                f.configure();
                return f;
            } catch (IOException e) {
                last = e;
                f.kill();
            }
        }
        throw new IOException("could not start tgtd", last);
    }

    /** Adds a CHAP account the initiator must use ({@code outgoing}: the one the target proves itself with). */
    void addAccount(final String user, final String password, final boolean outgoing) throws IOException,
            InterruptedException {
        accounts.add(new String[] {user, password, Boolean.toString(outgoing)});
        bindAccount(user, password, outgoing);
    }

    /** Sets a target-side login key (tgtd offers only its configured values, e.g. HeaderDigest=None). */
    void targetParameter(final String name, final String value) throws IOException, InterruptedException {
        tgtadm("--lld", "iscsi", "--op", "update", "--mode", "target", "--tid", "1", "--name", name, "--value", value);
    }

    String url(final int lun) {
        return "iscsi://127.0.0.1:" + port + "/" + iqn + "/" + lun;
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: the connection drops without a FIN from tgtd's side being orderly. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            signal("CONT");
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts tgtd again on the same iSCSI port, with the same target, LUN and accounts. */
    void restart() throws IOException, InterruptedException {
        kill();
        IOException last = null;
        for (int i = 0; i < START_ATTEMPTS; i++) {
            try {
                launch();
                configure();
                for (String[] a : accounts) {
                    bindAccount(a[0], a[1], Boolean.parseBoolean(a[2]));
                }
                return;
            } catch (IOException e) {
                last = e;
                kill();
                controlPort = FreePorts.tgtdControlPort();
                Thread.sleep(200);
            }
        }
        throw new IOException("could not restart tgtd on port " + port, last);
    }

    /** SIGSTOP: tgtd stays connected but answers nothing (the kernel still accepts connections). */
    void stop() throws IOException, InterruptedException {
        signal("STOP");
    }

    void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    @Override
    public void close() throws InterruptedException {
        kill();
        // tgtd leaves its control socket behind when killed
        try {
            Files.deleteIfExists(Path.of("/var/run/tgtd/socket." + controlPort));
            Files.deleteIfExists(Path.of("/var/run/tgtd/socket." + controlPort + ".lock"));
        } catch (IOException e) {
            // best effort: a stale file only blocks a later tgtd on the same random port, which retries
        }
    }

    private void launch() throws IOException, InterruptedException {
        process = new ProcessBuilder(TGTD, "-f", "-C", Integer.toString(controlPort), "--iscsi",
                "portal=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("tgtd exited with " + process.exitValue() + "; see " + log);
            }
            if (run(false, "--op", "show", "--mode", "sys") == 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IOException("tgtd did not come up within " + READY_TIMEOUT);
    }

    private void configure() throws IOException, InterruptedException {
        tgtadm("--lld", "iscsi", "--op", "new", "--mode", "target", "--tid", "1", "-T", iqn);
        tgtadm("--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1",
                "-b", image.toString());
        tgtadm("--lld", "iscsi", "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL");
    }

    private void bindAccount(final String user, final String password, final boolean outgoing)
            throws IOException, InterruptedException {
        tgtadm("--lld", "iscsi", "--op", "new", "--mode", "account", "--user", user, "--password", password);
        if (outgoing) {
            tgtadm("--lld", "iscsi", "--op", "bind", "--mode", "account", "--tid", "1", "--user", user, "--outgoing");
        } else {
            tgtadm("--lld", "iscsi", "--op", "bind", "--mode", "account", "--tid", "1", "--user", user);
        }
    }

    private void tgtadm(final String... args) throws IOException, InterruptedException {
        if (run(true, args) != 0) {
            throw new IOException("tgtadm " + String.join(" ", args) + " failed; see " + log);
        }
    }

    private int run(final boolean logOutput, final String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(TGTADM, "-C", Integer.toString(controlPort)));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.redirectOutput(logOutput ? ProcessBuilder.Redirect.appendTo(log.toFile()) : ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private void signal(final String name) throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("cannot signal tgtd", e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
