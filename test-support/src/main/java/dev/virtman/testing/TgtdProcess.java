package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A private tgtd (Linux SCSI target framework daemon) exporting one image file: the reference
 * target our own is measured against. Each instance has its own management channel
 * ({@code tgtd -C N}, a UNIX socket under /var/run/tgtd) and its own loopback portal, so it never
 * touches another helper's tgtd. tgtd puts a controller at LUN 0; the image is LUN 1.
 *
 * <p>{@link #close()} kills the daemon (SIGKILL) and removes its management socket.
 */
public final class TgtdProcess implements IscsiTargetUnderTest {
    public static final int DISK_LUN = 1;
    private static final int TID = 1;
    private static final int START_ATTEMPTS = 5;
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final Duration RETRY_PAUSE = Duration.ofMillis(200);
    private static final Path SOCKET_DIR = Path.of("/var/run/tgtd");

    private final Process process;
    private final int controlPort;
    private final int portalPort;
    private final String iqn;
    private final Path log;

    private TgtdProcess(final Process process, final int controlPort, final int portalPort,
                        final String iqn, final Path log) {
        this.process = process;
        this.controlPort = controlPort;
        this.portalPort = portalPort;
        this.iqn = iqn;
        this.log = log;
    }

    /** The management socket of the tgtd started with {@code -C controlPort}. */
    public static Path controlSocket(final int controlPort) {
        return SOCKET_DIR.resolve("socket." + controlPort);
    }

    /**
     * Starts tgtd exporting {@code image} as LUN 1 of target {@code iqn}, open to every initiator.
     * Retries with fresh ports if another process took the chosen ones first.
     */
    public static TgtdProcess start(final Path image, final String iqn, final boolean writable) {
        return start(image, iqn, writable, FreePorts::loopbackPort);
    }

    /**
     * Starts tgtd like {@link #start(Path, String, boolean)} on a given portal port, e.g. the port
     * of a tgtd just killed, so that initiators reconnect to the same address. Retries with fresh
     * control ports, a moment apart (the old daemon's port may not be free yet).
     */
    public static TgtdProcess startOnPort(final Path image, final String iqn, final boolean writable,
                                          final int portalPort) {
        return start(image, iqn, writable, () -> portalPort);
    }

    private static TgtdProcess start(final Path image, final String iqn, final boolean writable,
                                     final IntSupplier portalPorts) {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            if (attempt > 0) {
                FreePorts.sleep(RETRY_PAUSE);
            }
            TgtdProcess tgtd = launch(FreePorts.tgtdControlPort(), portalPorts.getAsInt(), iqn);
            try {
                tgtd.configure(image, writable);
                return tgtd;
            } catch (IllegalStateException e) {
                last = e;
                tgtd.close();
            }
        }
        throw last;
    }

    private static TgtdProcess launch(final int controlPort, final int portalPort, final String iqn) {
        try {
            Path log = Files.createTempFile("virtman-tgtd-" + controlPort + "-", ".log");
            Process process = new ProcessBuilder("tgtd", "-f", "-C", Integer.toString(controlPort),
                    "--iscsi", "portal=127.0.0.1:" + portalPort)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            return new TgtdProcess(process, controlPort, portalPort, iqn, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start tgtd (Debian package tgt)", e);
        }
    }

    private void configure(final Path image, final boolean writable) {
        awaitManagementChannel();
        admin("--op", "new", "--mode", "target", "--tid", Integer.toString(TID), "-T", iqn);
        admin("--op", "new", "--mode", "logicalunit", "--tid", Integer.toString(TID),
                "--lun", Integer.toString(DISK_LUN), "-b", image.toAbsolutePath().toString());
        if (!writable) {
            admin("--op", "update", "--mode", "logicalunit", "--tid", Integer.toString(TID),
                    "--lun", Integer.toString(DISK_LUN), "--params", "readonly=1");
        }
        admin("--op", "bind", "--mode", "target", "--tid", Integer.toString(TID), "-I", "ALL");
        if (!FreePorts.awaitListening(portalPort, READY_TIMEOUT) || !process.isAlive()) {
            throw new IllegalStateException("tgtd portal 127.0.0.1:" + portalPort + " not listening; log:\n" + logText());
        }
    }

    /**
     * Adds a CHAP account to the target: one the initiator must log in with, or ({@code outgoing})
     * the one the target answers a mutual-CHAP challenge with (RFC 7143 §12.1.3).
     */
    public void addAccount(final String user, final String password, final boolean outgoing) {
        admin("--op", "new", "--mode", "account", "--user", user, "--password", password);
        List<String> bind = new ArrayList<>(List.of("--op", "bind", "--mode", "account", "--tid", Integer.toString(TID),
                "--user", user));
        if (outgoing) {
            bind.add("--outgoing");
        }
        admin(bind.toArray(String[]::new));
    }

    /** Sets a target-side login key; tgtd offers only its configured values (e.g. HeaderDigest=None). */
    public void targetParameter(final String name, final String value) {
        admin("--op", "update", "--mode", "target", "--tid", Integer.toString(TID), "--name", name, "--value", value);
    }

    private void awaitManagementChannel() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("tgtd exited with " + process.exitValue() + "; log:\n" + logText());
            }
            if (Files.exists(controlSocket(controlPort))
                    && adminCommand("--op", "show", "--mode", "sys").succeeded()) {
                return;
            }
            FreePorts.sleep(Duration.ofMillis(100));
        }
        throw new IllegalStateException("tgtd management channel " + controlPort + " not ready; log:\n" + logText());
    }

    private void admin(final String... args) {
        Commands.Result result = adminCommand(args);
        if (!result.succeeded()) {
            throw new IllegalStateException(result.describe() + "\ntgtd log:\n" + logText());
        }
    }

    private Commands.Result adminCommand(final String... args) {
        List<String> command = new ArrayList<>(List.of("tgtadm", "-C", Integer.toString(controlPort), "--lld", "iscsi"));
        command.addAll(List.of(args));
        return Commands.run(ADMIN_TIMEOUT, null, command);
    }

    @Override
    public String name() {
        return "tgtd";
    }

    @Override
    public int portalPort() {
        return portalPort;
    }

    @Override
    public String iqn() {
        return iqn;
    }

    @Override
    public int diskLun() {
        return DISK_LUN;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String logText() {
        try {
            return Commands.tail(Files.readString(log));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Kills tgtd outright: it ignores SIGTERM while it still has targets. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(controlSocket(controlPort));
            Files.deleteIfExists(Path.of(controlSocket(controlPort) + ".lock"));
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // leftovers of a dead tgtd do not block a new one on another control port
        }
    }

    @Override
    public String toString() {
        return "tgtd(pid " + process.pid() + ", -C " + controlPort + ", " + url() + ")";
    }
}
