package dev.virtman.bench.storm;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Splits the storm's CPU between the emulated VMs, which are part of the bench and not of
 * VirtMan, and everything else. An emulated VM costs CPU in two places: its own replay thread
 * (issuing commands, reading the reference image, comparing), which {@link EmulatedVm} measures
 * exactly with its thread's CPU clock and adds here, and its iSCSI session's receive thread,
 * which this meter samples: every {@value #PERIOD_MILLIS} ms it reads the CPU clock of every
 * thread named {@code iscsi-reader-<VM initiator name>...} (IscsiSession names its readers after
 * the initiator) and keeps each thread's latest reading. What a reader uses after its last sample,
 * before it ends (the logout at the end of a boot), is not counted: a few milliseconds per VM.
 * The meter's own CPU is counted too, as bench overhead, so that it can be left out of VirtMan's
 * share.
 */
final class VmCpuMeter implements AutoCloseable {
    static final long PERIOD_MILLIS = 500;
    /** Thread-name prefix of the emulated VMs' session readers (StormRun names VM initiators with this prefix). */
    static final String VM_READER_PREFIX = "iscsi-reader-" + StormRun.VM_INITIATOR_PREFIX;

    private final com.sun.management.ThreadMXBean threads;
    private final Map<Long, Long> readerCpu = new HashMap<>();
    private final LongAdder replayCpu = new LongAdder();
    private final PeriodicSampler sampler;
    private volatile long ownCpuNanos;

    private VmCpuMeter(final com.sun.management.ThreadMXBean threads) {
        this.threads = threads;
        this.sampler = threads == null ? null : new PeriodicSampler("storm-vm-cpu", PERIOD_MILLIS, this::sample,
                () -> ownCpuNanos = Math.max(0, threads.getCurrentThreadCpuTime()));
    }

    /** A meter, or one that measures nothing where the JVM has no per-thread CPU clocks. */
    static VmCpuMeter start() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                && t.isThreadCpuTimeSupported()) {
            t.setThreadCpuTimeEnabled(true);
            return new VmCpuMeter(t);
        }
        return new VmCpuMeter(null);
    }

    /** Adds one VM replay thread's CPU (-1: unknown, ignored). */
    void addReplayNanos(final long nanos) {
        if (nanos > 0) {
            replayCpu.add(nanos);
        }
    }

    private void sample() {
        long[] ids = threads.getAllThreadIds();
        ThreadInfo[] infos = threads.getThreadInfo(ids);
        int n = 0;
        long[] vm = new long[ids.length];
        for (ThreadInfo info : infos) {
            if (info != null && info.getThreadName().startsWith(VM_READER_PREFIX)) {
                vm[n++] = info.getThreadId();
            }
        }
        long[] chosen = java.util.Arrays.copyOf(vm, n);
        long[] cpu = threads.getThreadCpuTime(chosen);
        synchronized (readerCpu) {
            for (int i = 0; i < n; i++) {
                if (cpu[i] >= 0) {
                    readerCpu.merge(chosen[i], cpu[i], Math::max);
                }
            }
        }
    }

    /** CPU seconds of the VMs' replay threads. */
    double replaySeconds() {
        return replayCpu.sum() / 1e9;
    }

    /** CPU seconds of the VMs' session reader threads (sampled), -1 if unknown. */
    double readerSeconds() {
        if (threads == null) {
            return -1;
        }
        synchronized (readerCpu) {
            return readerCpu.values().stream().mapToLong(Long::longValue).sum() / 1e9;
        }
    }

    /** CPU seconds this meter used itself (valid after {@link #close}). */
    double ownSeconds() {
        return ownCpuNanos / 1e9;
    }

    @Override
    public void close() throws InterruptedException {
        if (sampler == null) {
            return;
        }
        sample();
        sampler.close();
        sampler.join();
    }
}
