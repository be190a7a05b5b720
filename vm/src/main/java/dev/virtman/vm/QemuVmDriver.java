package dev.virtman.vm;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each VM as a {@code qemu-system-x86_64} child process.
 *
 * <p>Per VM, a working directory {@code BASE/NAME/} holds: {@code disk.qcow2} (the overlay),
 * {@code serial.log} (everything the guest printed), {@code qemu.log} (QEMU's own stderr),
 * {@code qemu.pid} and {@code qmp.sock}. The guest's serial console is QEMU's stdout; one virtual
 * thread per VM copies it to {@code serial.log}, turns the up marker into UP, and on end of stream
 * (QEMU gone) settles the final state. Stop is ACPI power-down over QMP, then QMP {@code quit},
 * then SIGKILL, each after part of the grace period.
 *
 * <p>The accelerator comes from {@link KvmProbe} unless given: KVM only when a probe guest actually
 * ran under it.
 */
public final class QemuVmDriver implements VmDriver {

    private static final Logger LOG = LoggerFactory.getLogger(QemuVmDriver.class);
    private static final String QEMU = "qemu-system-x86_64";
    /** A console line longer than this is checked for markers and then dropped from the buffer. */
    private static final int MAX_CONSOLE_LINE = 64 * 1024;
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    private static final int QEMU_LOG_TAIL_CHARS = 400;

    private final Path baseDir;
    private final Accelerator accelerator;
    private final Clock clock;
    private final ConcurrentMap<String, Running> running = new ConcurrentHashMap<>();

    /**
     * A launched QEMU: its process, whether we asked it to end, and a latch the console watcher
     * opens once it has recorded the exit (so stop/kill return with the timeline complete).
     */
    private record Running(Process process, Path qmpSocket, AtomicBoolean stopRequested, CountDownLatch settled) {
    }

    /** A driver whose VMs live under {@code baseDir}, with KVM if a probe shows it works. */
    public QemuVmDriver(final Path baseDir) {
        this(baseDir, KvmProbe.detect().accelerator(), Clock.systemUTC());
    }

    public QemuVmDriver(final Path baseDir, final Accelerator accelerator, final Clock clock) {
        this.baseDir = baseDir.toAbsolutePath();
        this.accelerator = accelerator;
        this.clock = clock;
    }

    public Accelerator accelerator() {
        return accelerator;
    }

    @Override
    public VmHandle create(final VmSpec spec) {
        return VmDirectory.create(baseDir, spec, clock);
    }

    @Override
    public void start(final VmHandle vm) {
        if (vm.state() != VmState.CREATED || !vm.moveTo(VmState.STARTING)) {
            throw new VmException("VM " + vm.name() + " cannot start from state " + vm.state());
        }
        Path qmp = vm.workDir().resolve("qmp.sock");
        List<String> cmd;
        Process p;
        try {
            cmd = QemuCommandLine.build(QEMU, vm.spec(), accelerator, vm.overlay(), qmp, vm.workDir().resolve("qemu.pid"));
            p = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(vm.workDir().resolve("qemu.log").toFile())
                    .start();
        } catch (IOException | VmException e) {
            vm.fail("cannot launch QEMU: " + e.getMessage());
            throw new VmException("cannot launch QEMU for " + vm.name() + ": " + e.getMessage(), e);
        }
        vm.recordPhase(VmPhase.PROCESS_STARTED);
        Running r = new Running(p, qmp, new AtomicBoolean(), new CountDownLatch(1));
        running.put(vm.name(), r);
        vm.moveTo(VmState.BOOTING);
        LOG.info("VM {} started: pid {}, accel {}", vm.name(), p.pid(), accelerator.qemuName());
        Thread.ofVirtual().name("console-" + vm.name()).start(() -> watchConsole(vm, r));
    }

    /** Copies the console to serial.log, marks UP on the marker, settles the state when QEMU ends. */
    private void watchConsole(final VmHandle vm, final Running r) {
        String marker = vm.spec().upMarker();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (InputStream in = r.process().getInputStream();
             OutputStream log = Files.newOutputStream(vm.serialLog())) {
            byte[] buf = new byte[8192];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                log.write(buf, 0, n);
                log.flush();
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n' || line.size() >= MAX_CONSOLE_LINE) {
                        onConsoleLine(vm, line.toString(StandardCharsets.ISO_8859_1), marker);
                        line.reset();
                    }
                    if (b != '\n') {
                        line.write(b);
                    }
                }
            }
        } catch (IOException e) {
            LOG.warn("VM {}: console read failed: {}", vm.name(), e.getMessage());
        }
        settleExit(vm, r);
    }

    private void onConsoleLine(final VmHandle vm, final String line, final String marker) {
        if (!line.contains(marker)) {
            return;
        }
        OptionalDouble uptime = GuestMarker.uptimeSeconds(line, marker);
        // A marker without an uptime field (the busybox test guest's) still means up.
        if (vm.markUp(uptime)) {
            LOG.info("VM {} up: guest uptime {} s", vm.name(), uptime.isPresent() ? uptime.getAsDouble() : "?");
        }
    }

    private void settleExit(final VmHandle vm, final Running r) {
        int code;
        try {
            code = r.process().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.settled().countDown();
            return;
        }
        vm.recordPhase(VmPhase.PROCESS_EXITED);
        running.remove(vm.name(), r);
        if (r.stopRequested().get() || (code == 0 && vm.state() == VmState.UP)) {
            vm.moveTo(VmState.STOPPED);
        } else {
            vm.fail("QEMU exited with code " + code + " in state " + vm.state() + ": " + qemuLogTail(vm));
        }
        LOG.info("VM {} ended: QEMU exit {}, state {}", vm.name(), code, vm.state());
        r.settled().countDown();
    }

    @Override
    public void stop(final VmHandle vm, final Duration grace) {
        Running r = running.get(vm.name());
        if (r == null) {
            vm.moveTo(VmState.STOPPED); // never started, or already ended (then this is a no-op)
            return;
        }
        r.stopRequested().set(true);
        Duration half = grace.dividedBy(2);
        if (!qmp(r, "system_powerdown") || !waitExit(r, half)) {
            LOG.info("VM {}: no power-down within {}, quitting QEMU", vm.name(), half);
            if (!qmp(r, "quit") || !waitExit(r, half)) {
                r.process().destroyForcibly();
                waitExit(r, KILL_WAIT);
            }
        }
        awaitSettled(r);
    }

    @Override
    public void kill(final VmHandle vm) {
        Running r = running.get(vm.name());
        if (r == null) {
            vm.moveTo(VmState.STOPPED);
            return;
        }
        r.stopRequested().set(true);
        r.process().destroyForcibly();
        waitExit(r, KILL_WAIT);
        awaitSettled(r);
    }

    @Override
    public void destroy(final VmHandle vm) {
        kill(vm);
        VmDirectory.delete(vm.workDir());
    }

    private static void awaitSettled(final Running r) {
        try {
            r.settled().await(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean qmp(final Running r, final String command) {
        try (QmpClient c = QmpClient.connect(r.qmpSocket(), QMP_TIMEOUT)) {
            c.execute(command);
            return true;
        } catch (IOException e) {
            // "quit" may close the socket before answering; the process exit decides success.
            LOG.debug("QMP {} failed: {}", command, e.getMessage());
            return command.equals("quit");
        }
    }

    private static boolean waitExit(final Running r, final Duration timeout) {
        try {
            return r.process().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String qemuLogTail(final VmHandle vm) {
        try {
            String s = Files.readString(vm.workDir().resolve("qemu.log"), StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "(qemu.log empty)" : s.substring(Math.max(0, s.length() - QEMU_LOG_TAIL_CHARS));
        } catch (IOException e) {
            return "(no qemu.log)";
        }
    }
}
