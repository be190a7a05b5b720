package dev.virtman.sim;

import dev.virtman.agent.BootProfileRecorder;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ParentHealth;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.TreePlanner;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A discrete-event model of one boot storm, driven by the production policies:
 * <ul>
 *   <li>the tree is planned by {@link TreePlanner} (and re-planned by it when hosts fail), and
 *       each host's parent list is {@link DistributionTree#ancestorsOf}, as the manager hands out;</li>
 *   <li>which parent a host asks, and how it fails over, is {@link ParentHealth} with the agents'
 *       {@link dev.virtman.block.cache.FetchPolicy} (attempt timeout, rounds, back-off, cool-down);</li>
 *   <li>a host's VMs share its cache with single flight per chunk, as {@link ChunkCache} does, and
 *       prefetch follows a boot profile recorded by {@link BootProfileRecorder} during a lone boot,
 *       with the cache's default prefetch threads, over the whole profile.</li>
 * </ul>
 * Hardware is {@link NetworkModel}: per-host in/out links, the source's link, latency and a fixed
 * per-request overhead. A VM replays its {@link Workload} read by read: a read is issued at its trace
 * time or when the previous one returned, whichever is later, and touches its chunks in order; a
 * missing chunk blocks the VM until it is fetched.
 *
 * <p>The parts: {@link StormModel} (the shared world and counters), {@link VmReplay},
 * {@link ChunkTransfers} with a {@link Routing} ({@link TreeRouting} or
 * {@link MultiParentRouting}), {@link PrefetchModel} and {@link FullCopyModel}. This class
 * wires them for the scenario's strategy, fails hosts, and summarises.
 *
 * <p>One instance runs one storm ({@link #run}); it is not reusable.
 */
public final class BootStormSim {
    static final int SOURCE = StormModel.SOURCE;

    private final StormModel m;
    private final VmReplay vms;
    /** Null for a full-copy storm, which fetches no chunks. */
    private final Routing routing;
    private final ChunkTransfers transfers;

    public BootStormSim(final Scenario scenario) {
        this(scenario, null, false);
    }

    /** @param everyVm simulate each VM even when a host's VMs are in lock step (tests: the shortcut is exact) */
    BootStormSim(final Scenario scenario, final boolean everyVm) {
        this(scenario, null, everyVm);
    }

    private BootStormSim(final Scenario scenario, final BootProfileRecorder recorder, final boolean everyVm) {
        this.m = new StormModel(scenario, everyVm);
        this.vms = new VmReplay(m, recorder);
        switch (scenario.strategy().kind()) {
            case FLAT, TREE -> {
                TreeRouting tree = new TreeRouting(m, scenario.strategy().kind() == Strategy.Kind.FLAT);
                this.routing = tree;
                this.transfers = new ChunkTransfers(m, tree, vms);
                tree.transfers(transfers);
            }
            case MULTI_PARENT -> {
                MultiParentRouting multi = new MultiParentRouting(m);
                this.routing = multi;
                this.transfers = new ChunkTransfers(m, multi, vms);
                multi.transfers(transfers);
            }
            default -> {
                this.routing = null;
                this.transfers = null;
            }
        }
        vms.transfers(transfers);
    }

    /**
     * The boot profile the first host of an image records: one VM booting alone on one host, its
     * chunk accesses fed to the agent's {@link BootProfileRecorder}. Dense chunk ids of {@code w}.
     */
    public static int[] recordProfile(final Scenario scenario) {
        Scenario lone = scenario.withHosts(1).withPrefetch(false).withFailures(0, 0).withStrategy(Strategy.FLAT);
        lone = new Scenario(1, 1, lone.workload(), lone.imageBytes(), lone.network(), Strategy.FLAT, false, 0, 0,
                lone.seed(), lone.fetch(), lone.heartbeatInterval(), lone.heartbeatTimeout());
        BootProfileRecorder recorder = new BootProfileRecorder(scenario.workload().chunks());
        new BootStormSim(lone, recorder, false).run();
        return recorder.chunks().stream().mapToInt(Integer::intValue).toArray();
    }

    /** Runs the storm to the end and summarises it. */
    public SimResult run() {
        long wallStart = System.nanoTime();
        if (routing == null) {
            new FullCopyModel(m, vms).start();
        } else {
            routing.start();
            vms.startAll();
            if (m.sc.prefetch()) {
                PrefetchModel prefetch = new PrefetchModel(m, transfers, recordProfile(m.sc));
                transfers.prefetch(prefetch);
                prefetch.start();
            }
        }
        if (m.sc.failFraction() > 0) {
            m.loop.at(m.sc.failAt(), this::failHosts);
        }
        m.loop.run();
        return summarize((System.nanoTime() - wallStart) / StormModel.NANOS);
    }

    /** Kills the scenario's fraction of hosts at once; the manager re-plans after its timeout. */
    private void failHosts() {
        int hostCount = m.hostCount;
        int count = Math.max(1, (int) Math.round(m.sc.failFraction() * hostCount));
        int[] order = new int[hostCount];
        for (int i = 0; i < hostCount; i++) {
            order[i] = i;
        }
        for (int i = 0; i < count; i++) {
            int j = i + m.random.nextInt(hostCount - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            m.dead[order[i]] = true;
        }
        m.notes.append(count).append(" hosts failed at ").append(String.format(Locale.ROOT, "%.1f", m.loop.now()))
                .append(" s; ");
        if (transfers != null) {
            // Requests waiting at a dead host never get an answer: their timers fail them.
            for (int i = 0; i < count; i++) {
                transfers.forgetWaiting(order[i]);
            }
        }
        if (routing != null) {
            routing.hostsFailed();
        }
    }

    /** The distribution tree in use at the end (empty unless a tree or flat storm). */
    DistributionTree tree() {
        return routing instanceof TreeRouting t ? t.tree() : DistributionTree.empty();
    }

    private SimResult summarize(final double wallSeconds) {
        int weight = m.vmsPerHost / m.simVms;
        double[] vmDone = vms.vmDone;
        double[] sorted = new double[vmDone.length * weight];
        int completed = 0;
        int lost = 0;
        int unfinished = 0;
        int failed = 0;
        for (int v = 0; v < vmDone.length; v++) {
            if (m.dead[v / m.simVms]) {
                lost += weight;
            } else if (vms.vmFailed[v]) {
                failed += weight;
            } else if (Double.isNaN(vmDone[v])) {
                unfinished += weight;
            } else {
                Arrays.fill(sorted, completed, completed + weight, vmDone[v]);
                completed += weight;
            }
        }
        sorted = Arrays.copyOf(sorted, completed);
        Arrays.sort(sorted);
        Map<Integer, Long> perLevel = new TreeMap<>();
        for (int d = 0; d < m.levelBytes.length; d++) {
            if (m.levelBytes[d] > 0) {
                perLevel.put(d, m.levelBytes[d]);
            }
        }
        int treeDepth = routing == null ? 1 : routing.treeDepth(); // a full copy is one level
        if (m.giveUps > 0) {
            m.notes.append(m.giveUps).append(" chunk fetches exhausted every round; ");
        }
        return new SimResult(m.sc.strategy().label(), m.hostCount, m.vmsPerHost, sorted, lost, failed, unfinished,
                m.sourceBytes, perLevel, treeDepth, m.fetches, m.requests, m.failedAttempts, m.maxFetch,
                m.source.busySeconds(), m.cpu == null ? 0 : m.cpu.busySeconds(), m.loop.fired(), wallSeconds,
                m.notes.toString());
    }
}
