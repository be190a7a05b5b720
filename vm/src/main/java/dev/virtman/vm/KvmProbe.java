package dev.virtman.vm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Decides whether QEMU can use KVM by trying it. A {@code /dev/kvm} node proves little: on some
 * hosts (nested or restricted virtualisation) it opens fine but guests stop with "KVM internal
 * error ... emulation failure" or never execute. So the probe boots a kernel under {@code -accel
 * kvm} with early printk on the serial port and calls KVM usable only if the kernel's banner
 * ({@value #KERNEL_BANNER}) appears within a few seconds: under real KVM it appears in well under
 * one second. The answer is cached per kernel for the life of the JVM.
 */
public final class KvmProbe {

    static final String KERNEL_BANNER = "Linux version";
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_PROBE_OUTPUT_BYTES = 64 * 1024;
    private static final ConcurrentMap<Path, Result> CACHE = new ConcurrentHashMap<>();

    private KvmProbe() {
    }

    /** The accelerator to use and why. */
    public record Result(Accelerator accelerator, String reason) {
    }

    /** Probes with the host's newest {@code /boot/vmlinuz-*} kernel. */
    public static Result detect() {
        Optional<Path> kernel = hostKernel();
        if (kernel.isEmpty()) {
            return new Result(Accelerator.TCG, "no /boot/vmlinuz-* kernel to probe KVM with");
        }
        return detect(kernel.get());
    }

    /** Probes (once per kernel) by booting {@code kernel} under KVM. */
    public static Result detect(final Path kernel) {
        return CACHE.computeIfAbsent(kernel.toAbsolutePath(), k -> probe(k, DEFAULT_TIMEOUT));
    }

    /** The newest kernel image in /boot, preferring Debian's cloud flavour (virtio built for guests). */
    public static Optional<Path> hostKernel() {
        try (Stream<Path> files = Files.list(Path.of("/boot"))) {
            List<Path> kernels = files.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                    .filter(Files::isReadable)
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString().contains("-cloud-"))
                            .thenComparing(p -> p.getFileName().toString()))
                    .toList();
            return kernels.isEmpty() ? Optional.empty() : Optional.of(kernels.getLast());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static Result probe(final Path kernel, final Duration timeout) {
        if (!Files.exists(Path.of("/dev/kvm"))) {
            return new Result(Accelerator.TCG, "/dev/kvm does not exist");
        }
        List<String> cmd = List.of("qemu-system-x86_64", "-accel", "kvm", "-m", "128", "-display", "none",
                "-monitor", "none", "-no-reboot", "-nic", "none", "-serial", "stdio",
                "-kernel", kernel.toString(),
                // earlyprintk: the banner comes before any driver; panic=-1 + -no-reboot: QEMU exits
                // right after the kernel fails to find a root filesystem.
                "-append", "earlyprintk=serial,ttyS0,115200 console=ttyS0 panic=-1 root=/dev/virtman-probe-none");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(Accelerator.TCG, "cannot run qemu-system-x86_64: " + e.getMessage());
        }
        try (ExecutorService watcher = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> banner = watcher.submit(() -> readUntilBanner(p.getInputStream()));
            String output;
            try {
                output = banner.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return new Result(Accelerator.TCG, "a kernel under -accel kvm printed nothing within " + timeout
                        + " (KVM present but not working)");
            } catch (java.util.concurrent.ExecutionException e) {
                return new Result(Accelerator.TCG, "KVM probe failed: " + e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(Accelerator.TCG, "KVM probe interrupted");
            } finally {
                p.destroyForcibly();
                try {
                    p.getInputStream().close();
                } catch (IOException ignored) {
                    // the probe process is being killed; its pipe's state no longer matters
                }
            }
            if (output.contains(KERNEL_BANNER)) {
                return new Result(Accelerator.KVM, "a kernel booted under -accel kvm");
            }
            return new Result(Accelerator.TCG, "QEMU with -accel kvm failed: " + lastLine(output));
        }
    }

    private static String readUntilBanner(final InputStream in) throws IOException {
        StringBuilder seen = new StringBuilder();
        byte[] buf = new byte[4096];
        for (int n = in.read(buf); n >= 0 && seen.length() < MAX_PROBE_OUTPUT_BYTES; n = in.read(buf)) {
            seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            if (seen.indexOf(KERNEL_BANNER) >= 0) {
                break;
            }
        }
        return seen.toString();
    }

    private static String lastLine(final String output) {
        String s = output.strip();
        int nl = s.lastIndexOf('\n');
        return s.isEmpty() ? "no output" : s.substring(nl + 1);
    }
}
