package dev.virtman.sim;

import dev.virtman.agent.BootProfileRecorder;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ParentHealth;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
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
 * <p>One instance runs one storm ({@link #run}); it is not reusable.
 */
public final class BootStormSim {
    static final int SOURCE = -1;
    private static final int NO_PEER = -2;
    private static final byte ABSENT = 0;
    private static final byte IN_FLIGHT = 1;
    private static final byte READY = 2;
    private static final double NANOS = 1e9;
    /** Full copy moves the image in pieces, one outstanding per host, as FullCopyRun does (1 MiB). */
    private static final long MIN_COPY_PIECE = 1 << 20;
    /** ... but at most this many pieces per host, so 10,000 hosts × 15 GB stays tractable. */
    private static final long MAX_COPY_PIECES = 1024;
    /** Multi-parent asks the less busy of this many random holders of a chunk. */
    private static final int PEER_CHOICES = 2;

    /** Initial trees by fan-out/max depth/hosts: TreePlanner is deterministic, so equal inputs give equal trees. */
    private static final Map<String, DistributionTree> PLANS = new java.util.concurrent.ConcurrentHashMap<>();

    private final Scenario sc;
    private final Workload w;
    private final NetworkModel net;
    private final EventLoop loop = new EventLoop();
    private final int hostCount;
    private final int vmsPerHost;
    /**
     * VMs simulated per host. Without a shared testbed resource a host's VMs are in lock step
     * (same start, same trace, same cache: the first to miss starts the fetch, the rest wait on
     * it and all wake together), so one stands for all of them: same completion times, a tenth
     * of the events for 10 VMs per host. With a testbed resource they contend and all are run.
     */
    private final int simVms;
    private final int chunkBytes;
    private final int maxRunChunks;
    private final byte[][] state;
    private final Link[] in;
    private final Link[] out;
    private final Link source;
    /** The emulation machine's shared CPU when replaying an emulated storm, else null. */
    private final CpuPool cpu;
    private final Testbed testbed;
    private final boolean[] dead;
    private final List<Map<Integer, List<Request>>> waiting;
    private final int[] vmRead;
    private final int[] vmPos;
    private final int[] vmWaiting;
    private final double[] vmStart;
    private final double[] vmDone;
    private final boolean[] vmFailed;
    private final SplittableRandom random;
    private final BootProfileRecorder recorder;

    // Tree state (TREE and FLAT).
    private DistributionTree tree = DistributionTree.empty();
    private TreePlanner planner;
    private final String[] hostIds;
    private final Map<String, Integer> hostIndex = new HashMap<>();
    private int[][] parents;
    private ParentHealth[] health;
    private int[] depth;

    // Multi-parent state: per chunk, the hosts that hold it or are fetching it.
    private int[][] holders;
    private int[] holderCount;

    // Prefetch state.
    private int[] profile;
    private int prefetchThreads;
    private int[] prefetchNext;
    private int[][] prefetchSlots;

    // Counters.
    private long sourceBytes;
    private final long[] levelBytes = new long[TreeLimits.MAX_DEPTH_LIMIT + 2];
    private long fetches;
    private long requests;
    private long failedAttempts;
    private long giveUps;
    private double maxFetch;
    private final StringBuilder notes = new StringBuilder();

    /**
     * One fetch by one host of a run of chunks (one upstream request; a single chunk is a run of
     * one): its current parent and where it is in the retry schedule.
     */
    private static final class Attempt {
        final int host;
        final int[] run;
        int[] parentList;
        ParentHealth parentHealth;
        int[] order;
        int next;
        int round;
        int slot;
        int tries;
        int firstPeer = NO_PEER;
        double start;
        /** Bumped per try: a timer or a delivery of an earlier try finds it changed and is ignored. */
        int serial;
        /** The try whose timeout timer is set. */
        int timerArmedFor = -1;

        Attempt(final int host, final int[] run) {
            this.host = host;
            this.run = run;
        }
    }

    /** One try of an attempt at one parent: where the parent's read of the run has got to. */
    private static final class Request {
        final Attempt attempt;
        final int peer;
        final int serial;
        int pos;

        Request(final Attempt attempt, final int peer, final int serial) {
            this.attempt = attempt;
            this.peer = peer;
            this.serial = serial;
        }
    }

    public BootStormSim(final Scenario scenario) {
        this(scenario, null, false);
    }

    /** @param everyVm simulate each VM even when a host's VMs are in lock step (tests: the shortcut is exact) */
    BootStormSim(final Scenario scenario, final boolean everyVm) {
        this(scenario, null, everyVm);
    }

    private BootStormSim(final Scenario scenario, final BootProfileRecorder recorder, final boolean everyVm) {
        this.sc = scenario;
        this.w = scenario.workload();
        this.net = scenario.network();
        this.hostCount = scenario.hosts();
        this.vmsPerHost = scenario.vmsPerHost();
        this.chunkBytes = w.chunkSize();
        this.maxRunChunks = Math.max(1, ChunkCache.MAX_RUN_BYTES / chunkBytes);
        this.recorder = recorder;
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
        this.waiting = new ArrayList<>(hostCount);
        for (int h = 0; h < hostCount; h++) {
            waiting.add(null);
        }
        int vms = hostCount * simVms;
        this.vmRead = new int[vms];
        this.vmPos = new int[vms];
        this.vmWaiting = new int[vms];
        Arrays.fill(vmWaiting, -1);
        this.vmStart = new double[vms];
        this.vmDone = new double[vms];
        Arrays.fill(vmDone, Double.NaN);
        this.vmFailed = new boolean[vms];
        this.random = new SplittableRandom(scenario.seed());
        this.hostIds = new String[hostCount];
        for (int h = 0; h < hostCount; h++) {
            hostIds[h] = "host-" + (h + 1);
            hostIndex.put(hostIds[h], h);
        }
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
        switch (sc.strategy().kind()) {
            case FULL_COPY -> startFullCopy();
            case FLAT, TREE -> {
                planTree();
                startVms();
            }
            case MULTI_PARENT -> {
                holders = new int[w.chunks()][];
                holderCount = new int[w.chunks()];
                startVms();
            }
        }
        if (sc.prefetch() && sc.strategy().kind() != Strategy.Kind.FULL_COPY) {
            startPrefetch();
        }
        if (sc.failFraction() > 0) {
            loop.at(sc.failAt(), this::failHosts);
        }
        loop.run();
        return summarize((System.nanoTime() - wallStart) / NANOS);
    }

    // ---------------------------------------------------------------- tree

    private void planTree() {
        if (sc.strategy().kind() == Strategy.Kind.FLAT) {
            // Every host a child of the source, as the storm's flat run (fan-out = hosts) plans it.
            parents = new int[hostCount][];
            health = new ParentHealth[hostCount];
            depth = new int[hostCount];
            for (int h = 0; h < hostCount; h++) {
                setParents(h, new int[] {SOURCE}, 1);
            }
            if (hostCount <= TreeLimits.MAX_FAN_OUT) {
                planner = new TreePlanner(new TreeLimits(hostCount, hostCount, 1), Locality.UNKNOWN);
                tree = planner.plan(DistributionTree.empty(), members()).tree();
            }
            return;
        }
        int fanOut = sc.strategy().fanOut();
        int maxDepth = TreeLimits.DEFAULT_MAX_DEPTH;
        while (new TreeLimits(fanOut, fanOut, maxDepth).capacity() < hostCount && maxDepth < TreeLimits.MAX_DEPTH_LIMIT) {
            maxDepth++;
        }
        if (maxDepth != TreeLimits.DEFAULT_MAX_DEPTH) {
            notes.append("max depth raised from ").append(TreeLimits.DEFAULT_MAX_DEPTH).append(" to ")
                    .append(maxDepth).append(" to hold ").append(hostCount).append(" hosts; ");
        }
        planner = new TreePlanner(new TreeLimits(fanOut, fanOut, maxDepth), Locality.UNKNOWN);
        // Planning all hosts at once costs O(hosts²) (each join scans the tree breadth-first):
        // about a minute for 10,000 hosts, so a plan is kept for the next storm of the same shape.
        String key = fanOut + "/" + maxDepth + "/" + hostCount;
        DistributionTree planned = PLANS.get(key);
        if (planned == null) {
            PlanResult plan = planner.plan(DistributionTree.empty(), members());
            if (!plan.unplaced().isEmpty()) {
                throw new IllegalStateException(plan.unplaced().size() + " hosts found no place in the tree");
            }
            planned = plan.tree();
            PLANS.put(key, planned);
        }
        parents = new int[hostCount][];
        health = new ParentHealth[hostCount];
        depth = new int[hostCount];
        applyTree(planned, null);
    }

    private List<TreeMember> members() {
        List<TreeMember> live = new ArrayList<>(hostCount);
        for (int h = 0; h < hostCount; h++) {
            if (!dead[h]) {
                long held = 0;
                for (byte b : state[h]) {
                    held += b == READY ? 1 : 0;
                }
                live.add(new TreeMember(hostIds[h], Locality.UNKNOWN, held));
            }
        }
        return live;
    }

    /** Gives every host of {@code next} (or only {@code changed} ones) its parent list, as heartbeats do. */
    private void applyTree(final DistributionTree next, final List<String> changed) {
        tree = next;
        for (String id : changed == null ? next.hosts() : changed) {
            if (!next.contains(id)) {
                continue;
            }
            List<String> ancestors = next.ancestorsOf(id);
            int[] list = new int[ancestors.size()];
            for (int i = 0; i < list.length; i++) {
                String a = ancestors.get(i);
                list[i] = DistributionTree.SOURCE.equals(a) ? SOURCE : hostIndex.get(a);
            }
            setParents(hostIndex.get(id), list, next.depthOf(id));
        }
    }

    private void setParents(final int h, final int[] list, final int d) {
        parents[h] = list;
        // A new parent list is a new ParentSet in the agent: fresh health.
        health[h] = new ParentHealth(list.length, sc.fetch().parentCooldown().toNanos(), nanos());
        depth[h] = d;
    }

    // ---------------------------------------------------------------- VMs

    private void startVms() {
        for (int v = 0; v < hostCount * simVms; v++) {
            int vm = v;
            loop.at(0, () -> process(vm));
        }
    }

    /** Advances VM {@code v} until it blocks on a chunk or a trace time, or finishes. */
    private void process(final int v) {
        int h = v / simVms;
        if (dead[h]) {
            return;
        }
        while (true) {
            int r = vmRead[v];
            if (r == w.reads()) {
                vmDone[v] = loop.now();
                return;
            }
            int pos = vmPos[v];
            if (pos < 0) {
                pos = 0; // woken at the read's issue time
            } else if (pos == 0) {
                double due = vmStart[v] + w.readTime(r);
                if (due > loop.now()) {
                    vmPos[v] = -1;
                    loop.at(due, () -> process(v));
                    return;
                }
            }
            int[] chunks = w.readChunks(r);
            while (pos < chunks.length) {
                int c = chunks[pos];
                byte s = state[h][c];
                if (recorder != null) {
                    recorder.onAccess(c, nanos());
                }
                if (s != READY) {
                    vmPos[v] = pos;
                    vmWaiting[v] = c;
                    if (s == ABSENT) {
                        startFetch(h, claimRun(h, chunks, pos, w.pieceEnd(r, pos)));
                    }
                    return;
                }
                pos++;
            }
            vmRead[v] = r + 1;
            vmPos[v] = 0;
            if (cpu != null) {
                // The VM's READs of this trace read, served by the agent's target and checked
                // against the image, each a command on the shared CPU.
                long n = w.readBytes(r);
                long pieces = (n + Workload.PIECE_BYTES - 1) / Workload.PIECE_BYTES;
                double done = cpu.run(loop.now(), pieces * testbed.cpuPerCommand() + n * testbed.cpuPerByte());
                if (done > loop.now()) {
                    loop.at(done, () -> process(v));
                    return;
                }
            }
        }
    }

    // ---------------------------------------------------------------- fetching

    /**
     * The run {@code ChunkCache} claims for a miss at {@code chunks[from]} (absent at {@code h}):
     * it and the following chunks up to {@code last} of the same READ that are absent too (not
     * cached, not in flight), at most {@code MAX_RUN_BYTES}; fetched with one upstream request.
     */
    private int[] claimRun(final int h, final int[] chunks, final int from, final int last) {
        int end = from + 1;
        while (end <= last && end - from < maxRunChunks && state[h][chunks[end]] == ABSENT) {
            end++;
        }
        return end == from + 1 ? new int[] {chunks[from]} : Arrays.copyOfRange(chunks, from, end);
    }

    private void startFetch(final int h, final int[] claimed) {
        if (sc.strategy().kind() != Strategy.Kind.MULTI_PARENT) {
            for (int c : claimed) {
                state[h][c] = IN_FLIGHT;
            }
            Attempt a = new Attempt(h, claimed);
            takeParentList(a);
            tryNext(a);
            return;
        }
        // Multi-parent: the peer is chosen for the first chunk, and the run keeps only the chunks
        // that peer holds or is fetching, so a peer never has to fetch for the requester (two
        // hosts could otherwise wait on each other until the attempt timeout).
        int peer = choosePeer(h, claimed[0]);
        int n = 1;
        while (n < claimed.length && (peer == SOURCE || state[peer][claimed[n]] != ABSENT)) {
            n++;
        }
        int[] run = n == claimed.length ? claimed : Arrays.copyOf(claimed, n);
        for (int c : run) {
            state[h][c] = IN_FLIGHT;
        }
        Attempt a = new Attempt(h, run);
        a.firstPeer = peer;
        tryNext(a);
        for (int c : run) {
            addHolder(h, c); // after choosing, so a host never picks itself
        }
    }

    /** The host's current parent list and health, and their attempt order now (a ChunkFetcher round). */
    private void takeParentList(final Attempt a) {
        a.parentList = parents[a.host];
        a.parentHealth = health[a.host];
        a.order = a.parentHealth.attemptOrder(nanos());
    }

    /** Sends {@code a} to the next parent in its order, or starts the next round after the back-off. */
    private void tryNext(final Attempt a) {
        if (dead[a.host]) {
            return;
        }
        if (a.run.length > 1 && a.tries > 0) {
            // ChunkFetcher.fetchRun asks only the first parent for a run; when that fails, each
            // chunk is fetched on its own with the usual fail-over and rounds.
            for (int c : a.run) {
                Attempt single = new Attempt(a.host, new int[] {c});
                if (sc.strategy().kind() != Strategy.Kind.MULTI_PARENT) {
                    takeParentList(single);
                }
                tryNext(single);
            }
            return;
        }
        int peer;
        if (sc.strategy().kind() == Strategy.Kind.MULTI_PARENT) {
            peer = a.tries == 0 && a.firstPeer != NO_PEER ? a.firstPeer : choosePeer(a.host, a.run[0]);
        } else {
            if (a.next >= a.order.length) {
                // ChunkFetcher: the whole list failed; pause, then try it again (a VM whose read
                // fails after the last round reissues it, so the model keeps going).
                a.round++;
                if (a.round >= sc.fetch().rounds()) {
                    giveUp(a);
                    return;
                }
                long pause = sc.fetch().pauseBeforeRoundNanos(a.round);
                loop.after(pause / NANOS, () -> {
                    takeParentList(a);
                    a.next = 0;
                    tryNext(a);
                });
                return;
            }
            a.slot = a.order[a.next++];
            peer = a.parentList[a.slot];
        }
        a.tries++;
        a.start = loop.now();
        Request q = new Request(a, peer, ++a.serial);
        loop.after(net.latency(), () -> arrive(q));
    }

    /**
     * ChunkFetcher waits attemptTimeout for one parent, then abandons the read (its late bytes
     * still cross the links) and asks the next: a dead parent and a slow one look the same. The
     * timer is only set when the answer may come late (the parent must fetch first, is dead, or
     * its transfer ends after the deadline): one event fewer per request in the common case.
     */
    private void armTimeout(final Request q) {
        Attempt a = q.attempt;
        if (q.serial != a.serial || a.timerArmedFor == q.serial) {
            return; // stale, or already timed
        }
        int serial = q.serial;
        a.timerArmedFor = serial;
        loop.at(Math.max(deadline(a), loop.now()), () -> {
            if (a.serial == serial && !dead[a.host]) {
                a.serial++;
                attemptFailed(a);
            }
        });
    }

    private double deadline(final Attempt a) {
        return a.start + sc.fetch().attemptTimeout().toNanos() / NANOS;
    }

    private void attemptFailed(final Attempt a) {
        failedAttempts++;
        if (a.parentHealth != null && a.parentHealth == health[a.host]) {
            a.parentHealth.recordFailure(a.slot, nanos());
        }
        tryNext(a);
    }

    /** The request reaches the parent. */
    private void arrive(final Request q) {
        if (q.peer == SOURCE) {
            send(q);
        } else if (dead[q.peer]) {
            armTimeout(q); // never answers
        } else {
            serve(q);
        }
    }

    /**
     * The parent's target reads the requested chunks through its cache, in order: a cached chunk
     * is taken, one in flight is waited for, a missing one starts the parent's own run fetch
     * (single flight: every reader of it waits on one fetch). All there: the answer goes out.
     */
    private void serve(final Request q) {
        int p = q.peer;
        int[] run = q.attempt.run;
        while (q.pos < run.length) {
            int c = run[q.pos];
            byte s = state[p][c];
            if (s == READY) {
                q.pos++;
                continue;
            }
            armTimeout(q);
            Map<Integer, List<Request>> m = waiting.get(p);
            if (m == null) {
                m = new HashMap<>();
                waiting.set(p, m);
            }
            m.computeIfAbsent(c, k -> new ArrayList<>(2)).add(q);
            if (s == ABSENT) {
                startFetch(p, claimRun(p, run, q.pos, run.length - 1));
            }
            return;
        }
        send(q);
    }

    /** The parent holds the chunks: they go out on the parent's link as soon as that is free. */
    private void send(final Request q) {
        Link o = q.peer == SOURCE ? source : out[q.peer];
        long n = (long) q.attempt.run.length * chunkBytes;
        double outStart = o.reserve(loop.now(), n);
        if (q.peer == SOURCE) {
            sourceBytes += n; // served, even if the requester has given up on it by then
        }
        if (outStart <= loop.now()) {
            receive(q, o, outStart, n);
        } else {
            loop.at(outStart, () -> receive(q, o, outStart, n));
        }
    }

    private void receive(final Request q, final Link o, final double outStart, final long n) {
        Attempt a = q.attempt;
        if (q.peer != SOURCE && dead[q.peer]) {
            armTimeout(q);
            return;
        }
        double end = Link.receive(outStart, n, o, in[a.host]);
        if (cpu == null) {
            arrived(q, end + net.latency() + net.requestOverhead());
        } else {
            // The command's CPU work (served, sent, received, hashed, cached) on the shared
            // cores, queued behind what is already there when the bytes are in.
            loop.at(end + net.latency(), () -> arrived(q, cpu.run(loop.now(), testbed.cost(n)) + net.requestOverhead()));
        }
    }

    private void arrived(final Request q, final double at) {
        if (at > deadline(q.attempt)) {
            armTimeout(q);
        }
        loop.at(at, () -> delivered(q));
    }

    private void delivered(final Request q) {
        Attempt a = q.attempt;
        int h = a.host;
        if (dead[h] || q.serial != a.serial) {
            return; // abandoned after a timeout
        }
        if (q.peer != SOURCE && dead[q.peer]) {
            armTimeout(q); // the parent died with the chunks on their way
            return;
        }
        a.serial++;
        requests++;
        fetches += a.run.length;
        maxFetch = Math.max(maxFetch, loop.now() - a.start);
        if (a.parentHealth != null && a.parentHealth == health[h]) {
            a.parentHealth.recordSuccess(a.slot, nanos());
        }
        levelBytes[depth == null ? 1 : depth[h]] += (long) a.run.length * chunkBytes;
        for (int c : a.run) {
            state[h][c] = READY;
            release(h, c, true);
        }
    }

    /**
     * Every round failed: ChunkFetcher throws, the cache's single flight fails every reader of
     * the chunk. A VM's read fails (the emulated VM ends with an error); a child's request gets
     * an error and the child asks its next parent; a prefetch thread moves on.
     */
    private void giveUp(final Attempt a) {
        giveUps++;
        for (int c : a.run) {
            state[a.host][c] = ABSENT;
            release(a.host, c, false);
        }
    }

    /** Chunk {@code c} at {@code h} is verified and cached ({@code ok}) or failed: its readers go on. */
    private void release(final int h, final int c, final boolean ok) {
        Map<Integer, List<Request>> m = waiting.get(h);
        List<Request> children = m == null ? null : m.remove(c);
        if (children != null) {
            for (Request child : children) {
                if (ok) {
                    serve(child);
                } else if (child.serial == child.attempt.serial) {
                    child.attempt.serial++;
                    attemptFailed(child.attempt);
                }
            }
        }
        if (prefetchSlots != null) {
            int[] slots = prefetchSlots[h];
            for (int i = 0; i < slots.length; i++) {
                if (slots[i] == c) {
                    slots[i] = -1;
                }
            }
            pumpPrefetch(h);
        }
        int first = h * simVms;
        for (int v = first; v < first + simVms; v++) {
            if (vmWaiting[v] == c) {
                vmWaiting[v] = -1;
                if (ok) {
                    process(v);
                } else {
                    vmFailed[v] = true;
                }
            }
        }
    }

    /**
     * Multi-parent: of two random live peers that hold the chunk or are fetching it, one that holds
     * it, else the less busy; a peer still fetching is joined (its single flight serves both).
     * The first host to want a chunk asks the source. Requests thus spread over a random tree per
     * chunk, about log(hosts) deep, instead of all queueing at the first fetcher. A run goes to a
     * peer chosen for its first chunk; the peer fetches any of the rest it lacks.
     */
    private int choosePeer(final int h, final int c) {
        int n = holderCount[c];
        int best = -1;
        for (int i = 0; i < PEER_CHOICES && n > 0; i++) {
            int k = random.nextInt(n);
            int p = holders[c][k];
            if (p == h && n > 1) {
                p = holders[c][(k + 1) % n];
            }
            if (p == h || dead[p]) {
                continue;
            }
            if (best < 0 || better(p, best, c)) {
                best = p;
            }
        }
        for (int k = 0; best < 0 && k < n; k++) {
            int p = holders[c][k]; // both picks were dead: any live one (rare, after failures)
            if (p != h && !dead[p]) {
                best = p;
            }
        }
        return best >= 0 ? best : SOURCE;
    }

    private boolean better(final int p, final int q, final int c) {
        boolean pReady = state[p][c] == READY;
        boolean qReady = state[q][c] == READY;
        if (pReady != qReady) {
            return pReady;
        }
        return out[p].freeAt() < out[q].freeAt();
    }

    private void addHolder(final int h, final int c) {
        int n = holderCount[c];
        if (holders[c] == null || n == holders[c].length) {
            holders[c] = Arrays.copyOf(holders[c] == null ? new int[0] : holders[c], Math.max(4, n * 2));
        }
        holders[c][n] = h;
        holderCount[c] = n + 1;
    }

    // ---------------------------------------------------------------- prefetch

    /**
     * Every host prefetches the whole boot profile from the start, as ManagedAgent does with
     * {@code ChunkCache.prefetchInOrder}: the cache's prefetch threads take the profile's chunks
     * in order, one chunk per fetch; a chunk already cached or in flight when its turn comes is
     * skipped. (The agent's feeder keeps a window of two chunks per thread queued, so it may look
     * at a chunk slightly before a thread takes it; the model looks when a thread is free.)
     */
    private void startPrefetch() {
        profile = recordProfile(sc);
        ChunkCache.Options defaults = ChunkCache.Options.defaults(new SimpleMeterRegistry());
        prefetchThreads = defaults.prefetchThreads();
        prefetchNext = new int[hostCount];
        prefetchSlots = new int[hostCount][prefetchThreads];
        for (int[] s : prefetchSlots) {
            Arrays.fill(s, -1);
        }
        for (int h = 0; h < hostCount; h++) {
            int host = h;
            loop.at(0, () -> pumpPrefetch(host));
        }
    }

    /** Gives free prefetch threads the next profile chunks neither cached nor in flight. */
    private void pumpPrefetch(final int h) {
        if (dead[h]) {
            return;
        }
        int[] slots = prefetchSlots[h];
        for (int i = 0; i < slots.length; i++) {
            while (slots[i] < 0 && prefetchNext[h] < profile.length) {
                int c = profile[prefetchNext[h]++];
                if (state[h][c] == ABSENT) {
                    slots[i] = c;
                    startFetch(h, new int[] {c});
                }
            }
        }
    }

    // ---------------------------------------------------------------- full copy

    private void startFullCopy() {
        long piece = Math.max(MIN_COPY_PIECE, (sc.imageBytes() + MAX_COPY_PIECES - 1) / MAX_COPY_PIECES);
        for (int h = 0; h < hostCount; h++) {
            int host = h;
            loop.at(0, () -> copyPiece(host, 0, piece));
        }
    }

    private void copyPiece(final int h, final long offset, final long piece) {
        if (offset >= sc.imageBytes()) {
            Arrays.fill(state[h], READY);
            int first = h * simVms;
            for (int v = first; v < first + simVms; v++) {
                vmStart[v] = loop.now();
                process(v);
            }
            return;
        }
        long n = Math.min(piece, sc.imageBytes() - offset);
        loop.after(net.latency(), () -> {
            double outStart = source.reserve(loop.now(), n);
            EventLoop.Action finish = () -> {
                double end = Link.receive(outStart, n, source, in[h]);
                loop.at(end + net.latency(), () -> {
                    sourceBytes += n;
                    levelBytes[1] += n;
                    copyPiece(h, offset + n, piece);
                });
            };
            if (outStart <= loop.now()) {
                finish.run();
            } else {
                loop.at(outStart, finish);
            }
        });
    }

    // ---------------------------------------------------------------- failures

    /** Kills the scenario's fraction of hosts at once; the manager re-plans after its timeout. */
    private void failHosts() {
        int count = Math.max(1, (int) Math.round(sc.failFraction() * hostCount));
        int[] order = new int[hostCount];
        for (int i = 0; i < hostCount; i++) {
            order[i] = i;
        }
        for (int i = 0; i < count; i++) {
            int j = i + random.nextInt(hostCount - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            dead[order[i]] = true;
        }
        notes.append(count).append(" hosts failed at ").append(String.format(java.util.Locale.ROOT, "%.1f", loop.now()))
                .append(" s; ");
        // Requests waiting at a dead host never get an answer: their timers fail them.
        for (int i = 0; i < count; i++) {
            Map<Integer, List<Request>> m = waiting.get(order[i]);
            if (m != null) {
                m.clear();
            }
        }
        if (planner != null && sc.strategy().kind() == Strategy.Kind.TREE) {
            // Missed heartbeats for the timeout, then children learn their new parents at their
            // next heartbeat: on average half an interval later.
            double replanAt = loop.now() + sc.heartbeatTimeout().toNanos() / NANOS
                    + sc.heartbeatInterval().toNanos() / NANOS / 2;
            loop.at(replanAt, this::replan);
        }
    }

    private void replan() {
        PlanResult plan = planner.plan(tree, members());
        List<String> changed = new ArrayList<>();
        plan.changes().forEach(ch -> {
            if (ch.newParent() != null) {
                changed.add(ch.hostId());
            }
        });
        // Descendants of a moved host keep their parent but get a new ancestor list too.
        List<String> refresh = new ArrayList<>();
        for (String id : changed) {
            refresh.addAll(plan.tree().subtreeOf(id));
        }
        applyTree(plan.tree(), refresh);
        notes.append("manager re-planned at ").append(String.format(java.util.Locale.ROOT, "%.1f", loop.now()))
                .append(" s (").append(plan.moves()).append(" moves); ");
    }

    // ---------------------------------------------------------------- results

    /** The distribution tree in use at the end (empty unless a tree or flat storm). */
    DistributionTree tree() {
        return tree;
    }

    private long nanos() {
        return (long) (loop.now() * NANOS);
    }

    private SimResult summarize(final double wallSeconds) {
        int weight = vmsPerHost / simVms;
        double[] sorted = new double[vmDone.length * weight];
        int completed = 0;
        int lost = 0;
        int unfinished = 0;
        int failed = 0;
        for (int v = 0; v < vmDone.length; v++) {
            if (dead[v / simVms]) {
                lost += weight;
            } else if (vmFailed[v]) {
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
        for (int d = 0; d < levelBytes.length; d++) {
            if (levelBytes[d] > 0) {
                perLevel.put(d, levelBytes[d]);
            }
        }
        int treeDepth = switch (sc.strategy().kind()) {
            case TREE -> tree.depth();
            case FLAT, FULL_COPY -> 1;
            case MULTI_PARENT -> 0;
        };
        if (giveUps > 0) {
            notes.append(giveUps).append(" chunk fetches exhausted every round; ");
        }
        return new SimResult(sc.strategy().label(), hostCount, vmsPerHost, sorted, lost, failed, unfinished, sourceBytes,
                perLevel, treeDepth, fetches, requests, failedAttempts, maxFetch, source.busySeconds(),
                cpu == null ? 0 : cpu.busySeconds(), loop.fired(), wallSeconds, notes.toString());
    }
}
