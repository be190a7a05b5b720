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
import dev.virtman.boot.BootHosts;
import dev.virtman.boot.RemoteCluster;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.vm.VmDriver;
import dev.virtman.vm.BootSource;
import dev.virtman.vm.GuestMarker;
import dev.virtman.vm.VmDrivers;
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
import java.util.function.IntFunction;

/**
 * {@code virtman boot}: boots N VMs from one image. On this machine (the embedded default) it
 * starts a manager, the source target and one agent per emulated host, gives every VM a
 * copy-on-write overlay over its host agent's export, launches them and reports. With
 * {@code --manager URL --hosts h1,h2} it starts nothing: the hosts' running agents launch the VMs
 * the boot orders through the manager, and report them back.
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

    @Option(names = "--hosts", paramLabel = "N|H1,H2,...",
            description = "embedded: how many emulated hosts, one agent each on 127.0.0.2, 127.0.0.3, ...; "
                    + "with --manager: the registered hosts to boot on, comma-separated (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    String hosts;

    @Option(names = "--manager", paramLabel = "URL[,URL...]",
            description = "boot on hosts whose agents already run (virtman agent --manager URL --vm-dir DIR ...) "
                    + "instead of starting a manager, source and agents here; several managers of one cluster "
                    + "separated by commas (the boot fails over between them)")
    String manager;

    @Option(names = "--ca-file", paramLabel = "PEM",
            description = "with --manager: CA certificates an https:// manager's certificate must chain to "
                    + "(default: $VIRTMAN_CA_FILE, else the JVM's trust store)")
    Path caFile;

    /** With --manager: the admin token, from a file or the environment (never argv). */
    @CommandLine.Mixin
    TokenOptions token;

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

    @Option(names = "--libvirt", paramLabel = "URI",
            description = "embedded: run the VMs as libvirt domains through URI (e.g. qemu:///system) instead of "
                    + "QEMU processes; libvirt's QEMU user must be able to reach --work-dir")
    String libvirt;

    @Option(names = "--report", paramLabel = "FILE", description = "write a boot timeline (.html or .svg)")
    Path report;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        token.refuseArgvToken();
        validate();
        quietLogs();
        Instant started = Instant.now();
        Path work = (workDir != null ? workDir : BootDirs.defaultWorkDir()).toAbsolutePath();
        TerminalProgress progress = TerminalProgress.forStdout();
        try {
            return manager != null ? bootOnManagedHosts(started, work, progress) : bootEmbedded(started, work, progress);
        } catch (BootException e) {
            throw new CommandLine.ExecutionException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** The embedded default: manager, source and agents in this process, VMs under a local QEMU driver. */
    private int bootEmbedded(final Instant started, final Path work, final TerminalProgress progress)
            throws IOException, InterruptedException {
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
            EmbeddedCluster.emptyCaches(work);
        }
        VmDriver driver = VmDrivers.forHost(BootDirs.vmDir(work), libvirt);
        String how = VmDrivers.describe(driver);
        progress.note("VMs run under " + how + (how.endsWith("tcg") ? " (KVM is not usable here)" : ""));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(work, raw, imageName, Integer.parseInt(hosts), fanOut,
                progress)) {
            return bootAndReport(cluster, host -> driver, boot, started, progress, cluster::close,
                    () -> verifyCaches(cluster), "the agents' caches stay in " + work.resolve("cache"));
        }
    }

    /** Hosts whose agents already run: VMs are ordered through the manager and run by those agents. */
    private int bootOnManagedHosts(final Instant started, final Path work, final TerminalProgress progress)
            throws IOException, InterruptedException {
        String t;
        try {
            t = token.token(null);
        } catch (ManagerClientException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--manager needs the admin token: "
                    + e.getMessage());
        }
        ManagerClient client;
        try {
            client = new ManagerClient(ManagerClient.parseUrls(manager), t, ManagerClient.trust(caFile));
        } catch (ManagerClientException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--manager: " + e.getMessage());
        }
        ImageView view;
        BootSource boot;
        try {
            view = managedImage(client, progress);
        } catch (ManagerClientException e) {
            throw new BootException(e.getMessage(), e);
        }
        if (kernel != null) {
            boot = new BootSource.DirectKernel(kernel.toAbsolutePath(), initrd.toAbsolutePath(), append);
        } else if (image == null && name == null) {
            DemoImage.Guest demo = DemoImage.ensure(work.resolve("demo"), progress);
            boot = new BootSource.DirectKernel(demo.kernel(), demo.initrd(), DemoImage.KERNEL_APPEND);
        } else {
            boot = new BootSource.DiskBoot();
        }
        List<String> hostIds = List.of(hosts.split(","));
        try (RemoteCluster cluster = RemoteCluster.connect(client, view, hostIds)) {
            progress.note("booting on " + hostIds.size() + (hostIds.size() == 1 ? " host" : " hosts") + " of "
                    + manager + ": " + String.join(", ", hostIds) + " (their agents run the VMs)");
            return bootAndReport(cluster, cluster::driver, boot, started, progress, () -> { },
                    () -> true, "the agents' caches stay on their hosts");
        }
    }

    /**
     * The image for a boot on managed hosts: {@code --name} as registered; else {@code --image}
     * (registered by path if no image has that path yet: the manager must be able to read it);
     * else the demo, which must have been registered as {@code demo}.
     */
    private ImageView managedImage(final ManagerClient client, final TerminalProgress progress) {
        if (name != null || image == null) {
            return client.image(name != null ? name : "demo");
        }
        String path = image.toAbsolutePath().toString();
        for (ImageView v : client.images()) {
            if (v.path().equals(path)) {
                return v;
            }
        }
        progress.note("registering " + path + " with the manager (it computes the chunk manifest)...");
        return client.registerImage(ImagePreparer.nameOf(image), path);
    }

    /** Boots, prints the summary, writes the report, then stops the VMs (or keeps them until Ctrl-C). */
    private int bootAndReport(final BootHosts cluster, final IntFunction<VmDriver> drivers, final BootSource boot,
                              final Instant started, final TerminalProgress progress, final Runnable closeCluster,
                              final CacheCheck cacheCheck, final String cachesNote)
            throws InterruptedException, IOException {
        AtomicBoolean finished = new AtomicBoolean();
        AtomicReference<List<VmBoot>> booted = new AtomicReference<>(List.of());
        Thread cleanup = new Thread(() -> {
            if (!finished.get()) {
                progress.note("\ninterrupted: stopping VMs and agents...");
                booted.get().forEach(v -> drivers.apply(v.host()).destroy(v.vm()));
                closeCluster.run();
            }
        }, "virtman-boot-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        BootRun run = new BootRun(cluster, drivers, progress);
        BootOutcome outcome = run.run(new BootRun.Settings(count, "vm", boot, memoryMiB, marker,
                Duration.ofSeconds(timeoutSeconds)), started, booted::set);
        progress.finishStatus();
        spec.commandLine().getOut().print(outcome.summary());
        boolean cacheClean = !verifyCache || cacheCheck.clean();
        spec.commandLine().getOut().flush();
        if (report != null) {
            TimelineReport.write(outcome, report);
            progress.note("boot timeline: " + report.toAbsolutePath());
        }
        if (keep) {
            progress.note("VMs keep running (virtman vms / stop / destroy); Ctrl-C stops them.");
            new CountDownLatch(1).await();
        }
        progress.note("stopping VMs (their overlays are removed; " + cachesNote + ")");
        for (VmBoot v : outcome.vms()) {
            VmDriver driver = drivers.apply(v.host());
            if (v.vm().timeline().at(VmPhase.GUEST_UP).isPresent()) {
                driver.destroy(v.vm());
            } else {
                driver.kill(v.vm());
                progress.note(manager == null
                        ? "kept " + v.vm().workDir() + " of failed " + v.vm().name()
                                + " for inspection (serial.log, qemu.log); virtman destroy " + v.vm().name() + " removes it"
                        : "kept failed " + v.vm().name() + " on " + v.hostId() + " for inspection (serial.log, qemu.log in "
                                + "its agent's --vm-dir); virtman destroy --manager " + manager + " --host " + v.hostId()
                                + " " + v.vm().name() + " removes it (a new boot of the same name replaces it too)");
            }
        }
        finished.set(true);
        Runtime.getRuntime().removeShutdownHook(cleanup);
        return outcome.upCount() == outcome.vms().size() && cacheClean ? 0 : 1;
    }

    /** The --verify-cache check of a boot's hosts. */
    @FunctionalInterface
    private interface CacheCheck {
        boolean clean() throws IOException;
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
        if (manager == null && caFile != null) {
            throw new CommandLine.ParameterException(cl, "--ca-file goes with --manager");
        }
        if (manager == null) {
            int n;
            try {
                n = Integer.parseInt(hosts);
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(cl, "--hosts without --manager is a number of emulated hosts; "
                        + "host names need --manager URL");
            }
            if (n < 1 || n > 1000) {
                throw new CommandLine.ParameterException(cl, "--hosts must be in 1..1000");
            }
        } else {
            for (String h : hosts.split(",", -1)) {
                if (!TargetNames.HOST_ID.matcher(h).matches()) {
                    throw new CommandLine.ParameterException(cl, "--hosts with --manager names registered hosts, "
                            + "comma-separated; '" + h + "' is not a host id");
                }
            }
            if (verifyCache) {
                throw new CommandLine.ParameterException(cl, "--verify-cache reads the agents' caches: embedded boots only");
            }
            if (cold) {
                throw new CommandLine.ParameterException(cl, "--cold empties the agents' caches: embedded boots only");
            }
            if (libvirt != null) {
                throw new CommandLine.ParameterException(cl, "--libvirt picks this machine's VM driver: embedded boots "
                        + "only (give it to the hosts' agents: virtman agent --vm-dir DIR --libvirt URI)");
            }
        }
        if (timeoutSeconds < 1) {
            throw new CommandLine.ParameterException(cl, "--timeout must be positive");
        }
        if ((kernel == null) != (initrd == null)) {
            throw new CommandLine.ParameterException(cl, "--kernel and --initrd go together");
        }
        if (image == null && kernel != null && manager == null) {
            throw new CommandLine.ParameterException(cl, "--kernel needs --image (the demo brings its own kernel)");
        }
    }
}
