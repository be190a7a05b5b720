package dev.virtman.bench.netns;

import dev.virtman.bench.storm.EmulatedVm;
import dev.virtman.bench.storm.PatientLogin;
import dev.virtman.block.BlockDevice;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.trace.BootTrace;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virtman bench replay}: the emulated VMs of one host, as a process of their own. Each VM
 * opens its own iSCSI session to the host's agent export at a common wall-clock start (login
 * included, as in the in-process storm) and replays the boot trace with its timing, comparing
 * every byte with the image file. A VM retries its first login as open-iscsi does ({@link
 * PatientLogin}). {@code bench/netns-storm} runs one of these inside each host's
 * network namespace, so the VMs' traffic and the agent's are that host's own.
 *
 * <p>Output, one line per VM: {@code vm NAME SECONDS BYTES MISMATCHED ERROR} ({@code -} for no
 * error), seconds counted from the common start. Exit 1 when any VM failed or read a wrong byte.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Replay a boot trace as V emulated VMs of one host against its agent's iSCSI export.")
public final class ReplayCommand implements Callable<Integer> {
    /** As the in-process storm's VMs: patient enough to ride out their agent being killed and revived. */
    private static final Duration VM_RECOVERY_TIMEOUT = Duration.ofSeconds(120);
    private static final int VM_MAX_REISSUES = 20;
    /** A start further ahead than this is a mistake (clock or argument), not a plan. */
    private static final long MAX_START_AHEAD_MILLIS = 600_000;

    @Option(names = "--export", paramLabel = "URL", required = true, description = "iscsi://HOST:PORT/IQN/LUN of the host's agent")
    String export;

    @Option(names = "--vms", paramLabel = "V", defaultValue = "1", description = "emulated VMs (default: ${DEFAULT-VALUE})")
    int vms;

    @Option(names = "--trace", paramLabel = "CSV", required = true, description = "boot trace")
    Path trace;

    @Option(names = "--image", paramLabel = "FILE", required = true, description = "the image, read locally to verify every byte")
    Path image;

    @Option(names = "--time-scale", paramLabel = "X", defaultValue = "1", description = "multiply the trace's time offsets (default: ${DEFAULT-VALUE})")
    double timeScale;

    @Option(names = "--start-at", paramLabel = "EPOCH_MILLIS", description = "common start, wall clock (default: now)")
    Long startAt;

    @Option(names = "--name", paramLabel = "PREFIX", defaultValue = "vm", description = "VM name prefix (default: ${DEFAULT-VALUE})")
    String name;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (vms < 1 || vms > 1000) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--vms must be 1..1000");
        }
        IscsiUrl url = IscsiUrl.parse(export);
        BootTrace bootTrace = BootTrace.readCsv(trace);
        long startNanos = System.nanoTime();
        if (startAt != null) {
            // Seconds count from the common start even for a process that came up after it: its
            // lateness is part of its VMs' boot time, and it says so.
            long ahead = startAt - System.currentTimeMillis();
            if (ahead > MAX_START_AHEAD_MILLIS) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--start-at is more than 10 minutes ahead");
            }
            startNanos += ahead * 1_000_000;
            if (ahead > 0) {
                Thread.sleep(ahead);
            } else {
                System.err.printf(Locale.ROOT, "replay: started %d ms after --start-at%n", -ahead);
            }
        }
        List<EmulatedVm.Result> results = new ArrayList<>();
        dev.virtman.bench.storm.ReferenceImage reference = dev.virtman.bench.storm.ReferenceImage.map(image);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<EmulatedVm.Result>> futures = new ArrayList<>();
            for (int v = 0; v < vms; v++) {
                String vm = name + "-" + (v + 1);
                EmulatedVm emulated = new EmulatedVm(vm, bootTrace, timeScale, reference);
                long start = startNanos;
                futures.add(threads.submit(() -> {
                    try (BlockDevice disk = PatientLogin.open(() -> IscsiBlockDevice.open(url, initiator(vm)),
                            e -> System.err.printf(Locale.ROOT, "replay: %s login retried after: %s%n", vm, e.getMessage()))) {
                        return emulated.replay(disk, start);
                    } catch (Exception e) {
                        return new EmulatedVm.Result(vm, start, System.nanoTime(), 0, 0, "open: " + e);
                    }
                }));
            }
            for (Future<EmulatedVm.Result> f : futures) {
                results.add(f.get());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        boolean ok = true;
        for (EmulatedVm.Result r : results) {
            ok &= r.ok();
            String error = r.error() == null ? "-" : r.error().replaceAll("\\s+", "_");
            out.printf(Locale.ROOT, "vm %s %.3f %d %d %s%n", r.vm(), r.seconds(), r.bytesRead(), r.mismatchedBytes(), error);
        }
        out.flush();
        return ok ? 0 : 1;
    }

    private static InitiatorOptions initiator(final String vm) {
        InitiatorOptions d = InitiatorOptions.defaults();
        return new InitiatorOptions(InitiatorOptions.DEFAULT_NAME_PREFIX + vm, null, d.connectTimeout(),
                d.loginTimeout(), d.commandTimeout(), VM_RECOVERY_TIMEOUT, d.keepAliveInterval(),
                d.keepAliveTimeout(), false, false, d.maxRecvDataSegmentLength(), d.maxReadBytes(), VM_MAX_REISSUES);
    }
}
