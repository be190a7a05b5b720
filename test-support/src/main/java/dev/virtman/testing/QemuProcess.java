package dev.virtman.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A QEMU guest booted under TCG (KVM does not work on these machines) with its serial console
 * captured line by line, so a test can wait for the marker the guest prints. {@link #close()}
 * always kills QEMU, whatever state the guest is in.
 */
public final class QemuProcess implements AutoCloseable {
    /** More console output than this is a runaway guest; the rest is dropped. */
    private static final int MAX_CONSOLE_LINES = 20_000;
    private static final int TAIL_LINES = 60;
    private static final String MEMORY_MIB = "256";
    private static final String KERNEL_COMMAND_LINE = "root=/dev/vda rw console=ttyS0 quiet panic=-1";

    private final Process process;
    private final List<String> console = new ArrayList<>();
    private final Thread reader;

    private QemuProcess(final Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform().daemon().name("qemu-console-" + process.pid()).start(this::pumpConsole);
    }

    /**
     * Boots {@code guest}'s kernel with {@code disk} (a qcow2 image, typically an overlay whose
     * backing file is an {@code iscsi://} URL) as its virtio root disk, no network, no reboot.
     */
    public static QemuProcess boot(final GuestImages guest, final Path disk) {
        return bootDrive(guest, "file=" + disk.toAbsolutePath() + ",if=virtio,format=qcow2");
    }

    /**
     * Boots {@code guest}'s kernel with the root disk given as a QEMU {@code -drive} spec, e.g. a
     * writable volume straight over iSCSI: {@code file=iscsi://USER%SECRET@HOST:PORT/IQN/0,if=virtio,format=raw}.
     */
    public static QemuProcess bootDrive(final GuestImages guest, final String drive) {
        return start(List.of("qemu-system-x86_64", "-accel", "tcg", "-m", MEMORY_MIB,
                "-nographic", "-no-reboot",
                "-kernel", guest.kernel().toString(), "-initrd", guest.initrd().toString(),
                "-append", KERNEL_COMMAND_LINE,
                "-drive", drive,
                "-nic", "none"));
    }

    /** Starts QEMU with the given command line; its standard output must be the serial console. */
    public static QemuProcess start(final List<String> command) {
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            return new QemuProcess(process);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start qemu-system-x86_64 (Debian package qemu-system-x86)", e);
        }
    }

    private void pumpConsole() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (console) {
                    if (console.size() < MAX_CONSOLE_LINES) {
                        console.add(line);
                    }
                    console.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // QEMU was killed; what we captured stays
        }
    }

    /**
     * Waits until a console line contains {@code marker} and returns that line (from the marker on;
     * the serial console may put terminal escapes before it). Fails with the console's tail when
     * QEMU exits first or the timeout passes.
     */
    public String awaitLine(final String marker, final Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int scanned = 0;
        synchronized (console) {
            while (true) {
                for (; scanned < console.size(); scanned++) {
                    String line = console.get(scanned);
                    int at = line.indexOf(marker);
                    if (at >= 0) {
                        return line.substring(at).strip();
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("no \"" + marker + "\" on the guest console within " + timeout
                            + "; console tail:\n" + consoleTail());
                }
                if (!reader.isAlive()) {
                    throw new IllegalStateException("QEMU exited (" + exitCode().map(String::valueOf).orElse("?")
                            + ") before \"" + marker + "\"; console tail:\n" + consoleTail());
                }
                try {
                    console.wait(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 500));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
    }

    /** Waits for QEMU to exit (the guest powered off) and returns its exit status. */
    public int awaitExit(final Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("QEMU still running after " + timeout + "; console tail:\n" + consoleTail());
            }
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return process.exitValue();
    }

    private Optional<Integer> exitCode() {
        return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }

    /** Whether QEMU still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    public String consoleTail() {
        synchronized (console) {
            return String.join("\n", console.subList(Math.max(0, console.size() - TAIL_LINES), console.size()));
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            Commands.killTree(process);
        }
    }
}
