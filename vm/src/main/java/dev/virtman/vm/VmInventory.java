package dev.virtman.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The VMs under a driver's base directory, seen from another process ({@code virtman vms},
 * {@code virtman stop}, {@code virtman destroy}): each VM directory holds QEMU's pid file, its
 * QMP socket and serial log, which are enough to tell whether it runs, whether its guest came
 * up, and to power it down or remove it.
 */
public final class VmInventory {
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final Path baseDir;

    public VmInventory(final Path baseDir) {
        this.baseDir = baseDir.toAbsolutePath();
    }

    /** One VM directory. {@code pid} is empty when QEMU is not running. */
    public record Entry(String name, Path dir, Optional<Long> pid, boolean guestUp, long overlayBytes) {
        public String state() {
            if (pid.isPresent()) {
                return guestUp ? "up" : "booting";
            }
            return "stopped";
        }
    }

    public List<Entry> list() throws IOException {
        if (!Files.isDirectory(baseDir)) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(baseDir)) {
            for (Path dir : dirs.sorted().toList()) {
                if (Files.isRegularFile(dir.resolve(VmDirectory.OVERLAY))) {
                    out.add(entry(dir));
                }
            }
        }
        return out;
    }

    public Optional<Entry> find(final String name) throws IOException {
        return list().stream().filter(e -> e.name().equals(name)).findFirst();
    }

    /** Asks the guest to power down over QMP; forces QEMU off when it is still running after {@code grace}. */
    public void stop(final Entry vm, final Duration grace) throws IOException {
        if (vm.pid().isEmpty()) {
            return;
        }
        long pid = vm.pid().get();
        try (QmpClient qmp = QmpClient.connect(vm.dir().resolve("qmp.sock"), QMP_TIMEOUT)) {
            qmp.execute("system_powerdown");
        } catch (IOException e) {
            // no QMP: fall through to a forced stop
        }
        if (!waitGone(pid, grace)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            waitGone(pid, KILL_WAIT);
        }
    }

    /** Kills QEMU if it runs and deletes the VM directory with its overlay. The shared cache is not touched. */
    public void destroy(final Entry vm) throws IOException {
        vm.pid().flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
        vm.pid().ifPresent(pid -> waitGone(pid, KILL_WAIT));
        VmDirectory.delete(vm.dir());
    }

    private static Entry entry(final Path dir) throws IOException {
        Optional<Long> pid = readPid(dir.resolve("qemu.pid")).filter(VmInventory::isQemu);
        boolean up = false;
        Path serial = dir.resolve(VmDirectory.SERIAL_LOG);
        if (Files.isRegularFile(serial)) {
            up = Files.readString(serial, StandardCharsets.ISO_8859_1).contains(GuestMarker.UP);
        }
        Path overlay = dir.resolve(VmDirectory.OVERLAY);
        long bytes = Files.size(overlay);
        return new Entry(dir.getFileName().toString(), dir, pid, up, bytes);
    }

    private static Optional<Long> readPid(final Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The pid file can outlive QEMU and its pid be reused: check the process is still QEMU. */
    private static boolean isQemu(final long pid) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .flatMap(p -> p.info().command()).map(c -> c.contains("qemu")).orElse(false);
    }

    private static boolean waitGone(final long pid, final Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                return true;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
