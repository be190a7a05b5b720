package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A running guest of {@code scripts/build-linux-stack-guest}: Debian 12 with the cloud kernel,
 * open-iscsi, multipath-tools, targetcli-fb (LIO), os-brick and the libiscsi tools, booted under
 * TCG with QEMU user networking (the guest is 10.0.2.15 and reaches the host's loopback as
 * {@link #HOST}) and a {@link GuestShell} on a virtio-serial port. One boot per test class: a TCG
 * boot costs a minute or more on this shared machine, the scenarios then take seconds each.
 *
 * <p>The root disk is the cached image with {@code snapshot=on}: the guest's writes go to a
 * temporary file QEMU drops at exit, so every boot starts from the same state.
 */
public final class LinuxStackGuest implements AutoCloseable {
    /** The host's loopback as the guest sees it (QEMU user networking). */
    public static final String HOST = "10.0.2.2";
    /** The guest's initiator name, fixed by the image (ACLs and CHAP use it). */
    public static final String INITIATOR_IQN = "iqn.2026-12.dev.virtman:linuxstack-guest";

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(25);
    private static final String MEMORY_MIB = "1024";
    /** The guest's LIO portal as the host reaches it (hostfwd to the guest's port 3260). */
    public static final int GUEST_ISCSI_PORT = 3260;
    private static final Duration SHARED_BOOT_TIMEOUT = Duration.ofSeconds(
            Long.getLong("virtman.bootTimeoutSeconds", 400));
    private static Path built;
    private static LinuxStackGuest shared;
    private static int sharedLioPort;

    private final QemuProcess qemu;
    private final GuestShell shell;

    private LinuxStackGuest(final QemuProcess qemu, final GuestShell shell) {
        this.qemu = qemu;
        this.shell = shell;
    }

    /**
     * Builds the image if missing or stale (root, the Debian mirror, several minutes once) and
     * returns its directory: {@code -Dvirtman.linuxStackGuest=DIR}, {@code $VIRTMAN_LINUX_STACK_GUEST}
     * or {@code work/linuxstack} in the repository.
     */
    public static synchronized Path build() {
        if (built == null) {
            Path root = ProjectPaths.root();
            String configured = System.getProperty("virtman.linuxStackGuest", System.getenv("VIRTMAN_LINUX_STACK_GUEST"));
            Path dir = configured != null ? Path.of(configured).toAbsolutePath() : root.resolve("work").resolve("linuxstack");
            Commands.run(BUILD_TIMEOUT, root, List.of(root.resolve("scripts/build-linux-stack-guest").toString(),
                    dir.toString())).requireSuccess();
            built = dir;
        }
        return built;
    }

    /**
     * Boots the guest and waits until its command agent answers.
     *
     * @param work         a directory for the command socket
     * @param hostForwards host loopback port to guest TCP port ({@code hostfwd}), e.g. to reach LIO
     * @param timeout      for the boot (minutes under TCG on a loaded machine)
     */
    public static LinuxStackGuest boot(final Path work, final Map<Integer, Integer> hostForwards, final Duration timeout) {
        Path dir = build();
        Path socket = work.resolve("cmd.sock");
        try {
            Files.createDirectories(work);
            Files.deleteIfExists(socket);
            String append = Files.readString(dir.resolve("append")).strip();
            StringBuilder nic = new StringBuilder("user,model=virtio-net-pci");
            hostForwards.forEach((host, guest) -> nic.append(",hostfwd=tcp:127.0.0.1:").append(host).append("-:").append(guest));
            List<String> command = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-m", MEMORY_MIB,
                    "-smp", "2", "-nographic", "-no-reboot",
                    "-kernel", dir.resolve("vmlinuz").toString(), "-initrd", dir.resolve("initrd.img").toString(),
                    "-append", append,
                    "-drive", "file=" + dir.resolve("linuxstack.raw") + ",if=virtio,format=raw,snapshot=on",
                    "-nic", nic.toString(),
                    "-device", "virtio-serial",
                    "-chardev", "socket,id=cmd,path=" + socket + ",server=on,wait=off",
                    "-device", "virtserialport,chardev=cmd,name=virtman.cmd"));
            QemuProcess qemu = QemuProcess.start(command);
            try {
                GuestShell shell = GuestShell.connect(socket, timeout, () -> {
                    if (!qemu.isAlive()) {
                        throw new IllegalStateException("QEMU exited while the guest booted; console:\n" + qemu.consoleTail());
                    }
                });
                return new LinuxStackGuest(qemu, shell);
            } catch (RuntimeException e) {
                String console = qemu.consoleTail();
                qemu.close();
                throw new IllegalStateException(e.getMessage() + "\nconsole tail:\n" + console, e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One guest for every test class of the run (booting costs a minute or more under TCG): booted
     * on first use with the guest's port 3260 forwarded to {@link #sharedLioPort()}, killed when
     * the JVM exits. Each test class leaves it as it found it (sessions logged out, multipathd
     * stopped, LIO cleared). Fails again at once if the first boot failed.
     */
    public static synchronized LinuxStackGuest shared() {
        if (shared == null) {
            try {
                Path work = Files.createTempDirectory("virtman-linuxstack-");
                int lio = FreePorts.loopbackPort();
                LinuxStackGuest guest = boot(work, Map.of(lio, GUEST_ISCSI_PORT), SHARED_BOOT_TIMEOUT);
                Runtime.getRuntime().addShutdownHook(new Thread(guest::close, "linuxstack-guest-stop"));
                sharedLioPort = lio;
                shared = guest;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    /** Host loopback port forwarded to the shared guest's iSCSI port (LIO). */
    public static synchronized int sharedLioPort() {
        shared();
        return sharedLioPort;
    }

    public GuestShell shell() {
        return shell;
    }

    /** Runs {@code script} in the guest, fails unless it exits 0, returns its standard output. */
    public String check(final String script, final Duration timeout) {
        return shell.check(script, timeout);
    }

    public GuestShell.Result run(final String script, final Duration timeout) {
        return shell.run(script, timeout);
    }

    public String consoleTail() {
        return qemu.consoleTail();
    }

    @Override
    public void close() {
        shell.close();
        qemu.close();
    }
}
