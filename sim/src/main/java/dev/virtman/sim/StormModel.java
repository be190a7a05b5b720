package dev.virtman.sim;

import dev.virtman.block.cache.ChunkCache;
import dev.virtman.manager.tree.TreeLimits;
import java.util.SplittableRandom;

/**
 * The world one boot storm runs in, shared by the parts of {@link BootStormSim}: the scenario,
 * the event loop, every host's chunk states, links and liveness, the source's link, the shared
 * CPU of an emulated testbed, and the counters the result is made of.
 */
final class StormModel {
    static final int SOURCE = -1;
    static final int NO_PEER = -2;
    static final byte ABSENT = 0;
    static final byte IN_FLIGHT = 1;
    static final byte READY = 2;
    static final double NANOS = 1e9;

    final Scenario sc;
    final Workload w;
    final NetworkModel net;
    final EventLoop loop = new EventLoop();
    final int hostCount;
    final int vmsPerHost;
    /**
     * VMs simulated per host. Without a shared testbed resource a host's VMs are in lock step
     * (same start, same trace, same cache: the first to miss starts the fetch, the rest wait on
     * it and all wake together), so one stands for all of them: same completion times, a tenth
     * of the events for 10 VMs per host. With a testbed resource they contend and all are run.
     */
    final int simVms;
    final int chunkBytes;
    final int maxRunChunks;
    /** Per host and chunk: {@link #ABSENT}, {@link #IN_FLIGHT} or {@link #READY}. */
    final byte[][] state;
    final Link[] in;
    final Link[] out;
    final Link source;
    /** The emulation machine's shared CPU when replaying an emulated storm, else null. */
    final CpuPool cpu;
    final Testbed testbed;
    final boolean[] dead;
    final SplittableRandom random;

    // Counters.
    long sourceBytes;
    final long[] levelBytes = new long[TreeLimits.MAX_DEPTH_LIMIT + 2];
    long fetches;
    long requests;
    long failedAttempts;
    long giveUps;
    double maxFetch;
    final StringBuilder notes = new StringBuilder();

    StormModel(final Scenario scenario, final boolean everyVm) {
        this.sc = scenario;
        this.w = scenario.workload();
        this.net = scenario.network();
        this.hostCount = scenario.hosts();
        this.vmsPerHost = scenario.vmsPerHost();
        this.chunkBytes = w.chunkSize();
        this.maxRunChunks = Math.max(1, ChunkCache.MAX_RUN_BYTES / chunkBytes);
        this.state = new byte[hostCount][w.chunks()];
        this.in = new Link[hostCount];
        this.out = new Link[hostCount];
        for (int h = 0; h < hostCount; h++) {
            in[h] = new Link(net.hostIn());
            out[h] = new Link(net.hostOut());
        }
        this.source = new Link(net.sourceRate());
        this.testbed = net.testbed();
        this.cpu = testbed.shared() ? new CpuPool(testbed.cores()) : null;
        this.simVms = cpu == null && !everyVm ? 1 : vmsPerHost;
        this.dead = new boolean[hostCount];
        this.random = new SplittableRandom(scenario.seed());
    }

    /** Simulated time in nanoseconds, for the production policies' clocks. */
    long nanos() {
        return (long) (loop.now() * NANOS);
    }
}
