package dev.virtman.cli;

import dev.virtman.boot.BootDirs;
import dev.virtman.boot.BootException;
import dev.virtman.boot.BootOutcome;
import dev.virtman.boot.BootRun;
import dev.virtman.boot.CacheAudit;
import dev.virtman.boot.DemoImage;
import dev.virtman.boot.EmbeddedCluster;
import dev.virtman.boot.ImagePreparer;
import dev.virtman.boot.TerminalProgress;
import dev.virtman.boot.TimelineReport;
import dev.virtman.boot.VmBoot;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.vm.BootSource;
import dev.virtman.vm.GuestMarker;
import dev.virtman.vm.QemuVmDriver;
import dev.virtman.vm.VmPhase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code virtman boot}: boots N VMs from one image on this machine (the embedded default):
 * starts a manager, the source target and one agent per emulated host, gives every VM a
 * copy-on-write overlay over its host agent's export, launches them and reports.
 */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot many VMs from one image through VirtMan's lazy, verified distribution tree.",
                "Without --image, builds and boots a small demo guest (Debian cloud kernel + busybox)."})
public final class BootCommand implements Callable<Integer> {

    @Option(names = "--image", paramLabel = "FILE", description = "raw or qcow2 image (default: the demo guest)")
    Path image;

    @Option(names = "--name", description = "image name in the manager (default: from the file name)")
    String name;

    @Option(names = {"-n", "--count"}, description = "number of VMs (default: ${DEFAULT-VALUE})", defaultValue = "4")
    int count;

    @Option(names = "--hosts", description = "emulated hosts, one agent each on 127.0.0.2, 127.0.0.3, ... (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    int hosts;

    @Option(names = "--fan-out", description = "children per tree node (default: ${DEFAULT-VALUE})")
    int fanOut = TreeLimits.DEFAULT_FAN_OUT;

    @Option(names = "--kernel", paramLabel = "FILE", description = "boot this kernel directly (default for --image: boot from the disk)")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "initramfs for --kernel")
    Path initrd;

    @Option(names = "--append", description = "kernel command line for --kernel (default: ${DEFAULT-VALUE})")
    String append = DemoImage.KERNEL_APPEND;

    @Option(names = "--memory", paramLabel = "MiB", description = "guest memory (default: ${DEFAULT-VALUE})", defaultValue = "256")
    int memoryMiB;

    @Option(names = "--marker", description = "console line that means the guest is up (default: ${DEFAULT-VALUE})")
    String marker = GuestMarker.UP;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "per-VM boot timeout (default: ${DEFAULT-VALUE})",
            defaultValue = "300")
    int timeoutSeconds;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "state: manager, caches, VMs (default: ~/.local/state/virtman/boot)")
    Path workDir;

    @Option(names = "--cold", description = "empty the agents' caches first, so the boot fetches from the source")
    boolean cold;

    @Option(names = "--keep", description = "keep the VMs and agents running until Ctrl-C (default: stop them after the summary)")
    boolean keep;

    @Option(names = "--verify-cache", description = "after the boot, hash every cached chunk against the image's manifest "
            + "(shows VM writes never reached the agents' caches); exit 1 on a mismatch")
    boolean verifyCache;

    @Option(names = "--report", paramLabel = "FILE", description = "write a boot timeline (.html or .svg)")
    Path report;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        validate();
        quietLogs();
        Instant started = Instant.now();
        Path work = (workDir != null ? workDir : BootDirs.defaultWorkDir()).toAbsolutePath();
        TerminalProgress progress = TerminalProgress.forStdout();
        BootSource boot;
        Path raw;
        String imageName;
        if (image == null) {
            DemoImage.Guest demo = DemoImage.ensure(work.resolve("demo"), progress);
            raw = demo.image();
            boot = new BootSource.DirectKernel(demo.kernel(), demo.initrd(), DemoImage.KERNEL_APPEND);
            imageName = name != null ? name : "demo";
        } else {
            raw = ImagePreparer.toRaw(image, work.resolve("images"), progress);
            boot = kernel != null ? new BootSource.DirectKernel(kernel, initrd, append) : new BootSource.DiskBoot();
            imageName = name != null ? name : ImagePreparer.nameOf(image);
        }
        if (cold) {
            ImagePreparer.deleteTree(work.resolve("cache"));
        }
        QemuVmDriver driver = new QemuVmDriver(BootDirs.vmDir(work));
        progress.note("VMs run under QEMU with " + driver.accelerator().qemuName()
                + (driver.accelerator().qemuName().equals("tcg") ? " (KVM is not usable here)" : ""));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(work, raw, imageName, hosts, fanOut, progress)) {
            AtomicBoolean finished = new AtomicBoolean();
            AtomicReference<List<VmBoot>> booted = new AtomicReference<>(List.of());
            Thread cleanup = new Thread(() -> {
                if (!finished.get()) {
                    progress.note("\ninterrupted: stopping VMs and agents...");
                    booted.get().forEach(v -> driver.destroy(v.vm()));
                    cluster.close();
                }
            }, "virtman-boot-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            BootRun run = new BootRun(cluster, driver, progress);
            BootOutcome outcome = run.run(new BootRun.Settings(count, "vm", boot, memoryMiB, marker,
                    Duration.ofSeconds(timeoutSeconds)), started, booted::set);
            progress.finishStatus();
            spec.commandLine().getOut().print(outcome.summary());
            boolean cacheClean = !verifyCache || verifyCaches(cluster);
            spec.commandLine().getOut().flush();
            if (report != null) {
                TimelineReport.write(outcome, report);
                progress.note("boot timeline: " + report.toAbsolutePath());
            }
            if (keep) {
                progress.note("VMs keep running (virtman vms / stop / destroy --work-dir " + work
                        + "); Ctrl-C stops them and the agents.");
                new CountDownLatch(1).await();
            }
            progress.note("stopping VMs (their overlays are removed; the agents' caches stay in " + work.resolve("cache") + ")");
            for (VmBoot v : outcome.vms()) {
                if (v.vm().timeline().at(VmPhase.GUEST_UP).isPresent()) {
                    driver.destroy(v.vm());
                } else {
                    driver.kill(v.vm());
                    progress.note("kept " + v.vm().workDir() + " of failed " + v.vm().name()
                            + " for inspection (serial.log, qemu.log); virtman destroy --all removes it");
                }
            }
            finished.set(true);
            Runtime.getRuntime().removeShutdownHook(cleanup);
            return outcome.upCount() == outcome.vms().size() && cacheClean ? 0 : 1;
        } catch (BootException e) {
            throw new CommandLine.ExecutionException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** Prints one line per host: its cached chunks and whether all of them still match the manifest. */
    private boolean verifyCaches(final EmbeddedCluster cluster) throws IOException {
        boolean clean = true;
        for (int host = 0; host < cluster.hostCount(); host++) {
            CacheAudit.Result r = CacheAudit.check(cluster.cache(host));
            clean &= r.clean();
            spec.commandLine().getOut().println("cache check " + cluster.hostId(host) + ": " + r.describe());
        }
        return clean;
    }

    /** The progress display is the interface; log lines would break it up. VIRTMAN_LOG_LEVEL overrides. */
    private static void quietLogs() {
        if (System.getenv("VIRTMAN_LOG_LEVEL") == null
                && LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        if (count < 1 || count > 10_000) {
            throw new CommandLine.ParameterException(cl, "--count must be in 1..10000");
        }
        if (hosts < 1 || hosts > 1000) {
            throw new CommandLine.ParameterException(cl, "--hosts must be in 1..1000");
        }
        if (timeoutSeconds < 1) {
            throw new CommandLine.ParameterException(cl, "--timeout must be positive");
        }
        if ((kernel == null) != (initrd == null)) {
            throw new CommandLine.ParameterException(cl, "--kernel and --initrd go together");
        }
        if (image == null && kernel != null) {
            throw new CommandLine.ParameterException(cl, "--kernel needs --image (the demo brings its own kernel)");
        }
    }
}
