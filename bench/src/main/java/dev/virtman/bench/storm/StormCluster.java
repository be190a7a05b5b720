package dev.virtman.bench.storm;

import dev.virtman.agent.AgentStatus;
import dev.virtman.agent.ManagedAgent;
import dev.virtman.agent.ManagedAgentConfig;
import dev.virtman.block.cache.CacheStats;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.HedgePolicy;
import dev.virtman.boot.LoopbackPorts;
import dev.virtman.boot.SourceTarget;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The machines of one storm run, in one JVM: a manager (on a fixed loopback port so it can be
 * restarted in place), the source target, and one managed agent per emulated host on its own
 * loopback address. Agents take their parents from the manager, exactly as in production.
 *
 * <p>Faults are injected in-process: {@link #kill} closes an agent's listener, sessions and
 * upstream connections without a goodbye to the manager or its children (what they observe of
 * a {@code kill -9}), and {@link #revive} starts it again on the same address and cache
 * directory, as a supervisor would. Counters of a killed agent are kept so the totals stay whole.
 */
public final class StormCluster implements AutoCloseable {
    /**
     * Agents heartbeat every second and 10 s of silence marks a host failed. With 100 agents and
     * 1,000 VM sessions in one JVM on 2 shared cores, a 1.2 s timeout and then a 5 s one still
     * failed live hosts (agents starting in a wave went 5-8 s between heartbeats that did reach
     * the manager); the report counts every failure the manager declared, so a false one shows.
     * Children do not wait for the manager to notice a dead parent: their parent-list failover
     * moves on at the first refused connection.
     */
    private static final Duration HEARTBEAT_INTERVAL = Duration.ofMillis(1000);
    private static final Duration HEARTBEAT_TIMEOUT = Duration.ofMillis(10_000);
    private static final Duration PLACEMENT_TIMEOUT = Duration.ofSeconds(120);
    private static final String PROFILE_RECORDER = "storm-first-boot";
    private static final String FAILURES_METRIC = "virtman_host_failures_total";
    private static final Duration METRICS_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Agents' chunk fetching in a storm: a parent gets 30 s per chunk instead of 5 s, and the
     * parent list is tried 6 times instead of 3. On 2 cores running 1,000 VM sessions a healthy
     * parent can take seconds to answer; abandoning it sends the read up the tree to a grandparent
     * or the source (more load, more source bytes) and finally fails the VM's read. A dead parent
     * is still left at once: its connection is refused or reset, no timeout needed.
     */
    static final FetchPolicy STORM_FETCH_POLICY = FetchPolicy.DEFAULT
            .withAttemptTimeout(Duration.ofSeconds(30))
            .withRounds(6, Duration.ofMillis(500));

    private final ManagerConfig managerConfig;
    private final SparseManifestProvider manifests;
    private final SourceTarget source;
    private final ImageView image;
    private final List<String> hostIds;
    private final List<ManagedAgentConfig> agentConfigs;
    private final ManagedAgent[] agents;
    private final ManagerClient client;
    private volatile ManagerServer manager;
    private volatile long failuresBeforeRestart;
    /** Per host: bytes fetched and cache hits/misses of agent processes that were killed. */
    private final AtomicLongArray deadFetched;
    private final AtomicLongArray deadHits;
    private final AtomicLongArray deadMisses;
    /** Hosts killed or frozen in this run: their own VMs lost their disk, not just a parent. */
    private final java.util.Set<Integer> faulted = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private StormCluster(final ManagerConfig managerConfig, final SparseManifestProvider manifests,
                         final ManagerServer manager, final SourceTarget source, final ImageView image,
                         final List<String> hostIds, final List<ManagedAgentConfig> agentConfigs,
                         final ManagedAgent[] agents) {
        this.managerConfig = managerConfig;
        this.manifests = manifests;
        this.manager = manager;
        this.source = source;
        this.image = image;
        this.hostIds = hostIds;
        this.agentConfigs = agentConfigs;
        this.agents = agents;
        this.client = new ManagerClient(manager.url(), manager.token());
        this.deadFetched = new AtomicLongArray(agents.length);
        this.deadHits = new AtomicLongArray(agents.length);
        this.deadMisses = new AtomicLongArray(agents.length);
    }

    /**
     * Starts manager, source and {@code hosts} agents (in parallel) under {@code workDir}.
     *
     * @param fanOut         children per node, the source included
     * @param upstreamCap    each agent's upstream bytes per second, 0 = uncapped
     * @param bootProfile    chunks the manager holds as the image's boot profile before agents start, or null
     */
    public static StormCluster start(final Path workDir, final StormImage stormImage, final int hosts,
                                     final int fanOut, final int chunkSize, final long upstreamCap,
                                     final List<Integer> bootProfile)
            throws IOException {
        return start(workDir, stormImage, hosts, fanOut, chunkSize, upstreamCap, bootProfile, true);
    }

    /** As above; {@code hedging} false makes every agent wait out each parent alone (the unhedged baseline). */
    public static StormCluster start(final Path workDir, final StormImage stormImage, final int hosts,
                                     final int fanOut, final int chunkSize, final long upstreamCap,
                                     final List<Integer> bootProfile, final boolean hedging)
            throws IOException {
        FetchPolicy fetchPolicy = hedging ? STORM_FETCH_POLICY : STORM_FETCH_POLICY.withHedging(HedgePolicy.OFF);
        InetSocketAddress sourcePortal = LoopbackPorts.freePortOn("127.0.0.1");
        InetSocketAddress managerListen = LoopbackPorts.freePortOn("127.0.0.1");
        StateDir state = new StateDir(workDir.resolve("manager")).create();
        ManagerConfig config = ManagerConfig.defaults(state)
                .withListen(managerListen)
                .withSource("127.0.0.1:" + sourcePortal.getPort(), Locality.UNKNOWN)
                .withLimits(TreeLimits.growing(fanOut, fanOut))
                .withHeartbeat(HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT)
                .withChunkSize(chunkSize)
                .withImageDirs(List.of(stormImage.path().toAbsolutePath().getParent()));
        SparseManifestProvider manifests = new SparseManifestProvider(stormImage, config.chunkSize());
        ManagerServer manager = ManagerServer.start(config, manifests);
        SourceTarget source = null;
        ManagedAgent[] agents = new ManagedAgent[hosts];
        try (ExecutorService starter = Executors.newVirtualThreadPerTaskExecutor()) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView image = client.registerImage("storm", stormImage.path().toAbsolutePath().toString());
            if (bootProfile != null) {
                client.putProfile(image.id(), bootProfile, PROFILE_RECORDER, false);
            }
            source = SourceTarget.start(sourcePortal, image.id(), stormImage.path());
            List<String> hostIds = new ArrayList<>();
            List<ManagedAgentConfig> configs = new ArrayList<>();
            for (int i = 0; i < hosts; i++) {
                String hostId = "host-" + (i + 1);
                String address = LoopbackPorts.hostAddress(i);
                Path cache = Files.createDirectories(workDir.resolve("cache").resolve(hostId));
                hostIds.add(hostId);
                configs.add(new ManagedAgentConfig(manager.url(), manager.enrolmentToken(), hostId, List.of(image.id()),
                        LoopbackPorts.freePortOn(address), null, cache, upstreamCap, 0, fetchPolicy, PLACEMENT_TIMEOUT,
                        null));
            }
            // Level by level, as a rolling deployment brings hosts up: the first fan-out agents
            // become the source's children, the next fan-out² theirs, and so on, and each wave
            // starts once its parents serve. All at once, children prefetched from parents that
            // were not listening yet, and 100 simultaneous starts (manifest downloads, cache
            // opens) starved heartbeats into false failures.
            int from = 0;
            for (int wave = fanOut; from < hosts; wave = (int) Math.min((long) wave * fanOut, hosts)) {
                int to = Math.min(hosts, from + wave);
                List<Future<ManagedAgent>> started = new ArrayList<>();
                for (ManagedAgentConfig c : configs.subList(from, to)) {
                    started.add(starter.submit(() -> ManagedAgent.start(c)));
                }
                for (int i = from; i < to; i++) {
                    agents[i] = started.get(i - from).get();
                }
                from = to;
            }
            return new StormCluster(config, manifests, manager, source, image, hostIds, configs, agents);
        } catch (IOException | RuntimeException | ExecutionException | InterruptedException e) {
            for (ManagedAgent a : agents) {
                if (a != null) {
                    a.close();
                }
            }
            if (source != null) {
                source.close();
            }
            manager.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof IOException io ? io : new IOException("storm cluster did not start: " + e, e);
        }
    }

    public int hosts() {
        return agents.length;
    }

    public String imageId() {
        return image.id();
    }

    public String hostId(final int host) {
        return hostIds.get(host);
    }

    /** The iSCSI URL of host {@code host}'s export (its VMs' disk); stable across kill and revive. */
    public String exportUrl(final int host) {
        InetSocketAddress portal = agentConfigs.get(host).portal();
        return "iscsi://" + portal.getAddress().getHostAddress() + ":" + portal.getPort() + "/"
                + TargetNames.agentIqn(hostIds.get(host), image.id()) + "/0";
    }

    public long sourceBytesServed() {
        return source.bytesServed();
    }

    /** The manager's current tree of the image. */
    public TreeView tree() {
        return client.tree(image.id());
    }

    /** Hosts that have children in the current tree, in breadth-first order. */
    public List<Integer> interiorHosts() {
        List<Integer> interior = new ArrayList<>();
        for (TreeView.Node n : tree().nodes()) {
            if (!n.children().isEmpty()) {
                interior.add(hostIds.indexOf(n.hostId()));
            }
        }
        return interior;
    }

    /** Abruptly stops host {@code host}'s agent: no deregistration, sessions just drop. */
    public synchronized void kill(final int host) {
        ManagedAgent a = agents[host];
        if (a == null) {
            return;
        }
        faulted.add(host);
        AgentStatus.Image s = a.agent().status().images().getFirst();
        deadFetched.addAndGet(host, s.parents().stream().mapToLong(AgentStatus.Parent::bytesFetched).sum());
        deadHits.addAndGet(host, s.hits());
        deadMisses.addAndGet(host, s.misses());
        agents[host] = null;
        a.close();
    }

    /**
     * Makes host {@code host}'s agent silent: its connections stay open, nothing is answered,
     * no heartbeats (what peers see of a host that lost power or its switch port).
     */
    public synchronized void freeze(final int host) {
        ManagedAgent a = agents[host];
        faulted.add(host);
        if (a != null) {
            a.freeze();
        }
    }

    /** Ends a {@link #freeze}. */
    public synchronized void thaw(final int host) {
        ManagedAgent a = agents[host];
        if (a != null) {
            a.thaw();
        }
    }

    /** Hosts killed or frozen so far in this run. */
    public java.util.Set<Integer> faultedHosts() {
        return java.util.Set.copyOf(faulted);
    }

    /** Hosts the manager shows as failed right now (empty if it cannot be asked). */
    public List<String> failedHostIds() {
        try {
            return client.hosts().stream().filter(h -> "failed".equals(h.state())).map(h -> h.hostId()).toList();
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** Hedges sent, won and refused by all running agents (killed incarnations not counted). */
    public double[] hedges() {
        double[] out = new double[3];
        for (ManagedAgent a : agents) {
            if (a != null) {
                for (var image : a.agent().images()) {
                    out[0] += image.hedgeBudget().sent();
                    out[1] += image.hedgeBudget().won();
                    out[2] += image.hedgeBudget().refused();
                }
            }
        }
        return out;
    }

    /** Starts host {@code host}'s agent again on its address and cache, as a supervisor would. */
    public synchronized void revive(final int host) throws IOException {
        if (agents[host] == null) {
            agents[host] = ManagedAgent.start(agentConfigs.get(host));
        }
    }

    /** Stops the manager and starts it again on the same state directory and port. */
    public void restartManager(final Duration down) throws IOException, InterruptedException {
        failuresBeforeRestart += hostFailures();
        manager.close();
        Thread.sleep(down);
        manager = ManagerServer.start(managerConfig, manifests);
    }

    /**
     * Times the manager declared a host failed (missed heartbeats or children's reports) so far,
     * from its {@code virtman_host_failures_total} metric; counts of managers that were restarted
     * are kept. In a fault-free storm every one of these is a false failure.
     */
    public long hostFailures() {
        HttpRequest req = HttpRequest.newBuilder(manager.url().resolve("/metrics"))
                .header("Authorization", "Bearer " + manager.token()).timeout(METRICS_TIMEOUT).build();
        try (HttpClient http = HttpClient.newHttpClient()) {
            String text = http.send(req, HttpResponse.BodyHandlers.ofString()).body();
            long total = failuresBeforeRestart;
            for (String line : text.split("\n")) {
                if (line.startsWith(FAILURES_METRIC)) {
                    total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return total;
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Bytes each host's agent fetched from its parents, killed incarnations included. */
    public long[] bytesFetchedPerHost() {
        long[] fetched = new long[agents.length];
        for (int i = 0; i < agents.length; i++) {
            fetched[i] = deadFetched.get(i);
            ManagedAgent a = agents[i];
            if (a != null) {
                fetched[i] += a.agent().status().images().getFirst().parents().stream()
                        .mapToLong(AgentStatus.Parent::bytesFetched).sum();
            }
        }
        return fetched;
    }

    /** Depth of each host in the manager's tree now (1 = child of the source), 0 if unplaced. */
    public Map<String, Integer> depths() {
        Map<String, Integer> depths = new HashMap<>();
        for (TreeView.Node n : tree().nodes()) {
            depths.put(n.hostId(), n.depth());
        }
        return depths;
    }

    /** Chunk reads served from a cache file over all chunk reads, all agents together. */
    public double cacheHitRatio() {
        long hits = 0;
        long misses = 0;
        for (int i = 0; i < agents.length; i++) {
            hits += deadHits.get(i);
            misses += deadMisses.get(i);
            ManagedAgent a = agents[i];
            if (a != null) {
                CacheStats s = a.agent().images().getFirst().stats();
                hits += s.hits();
                misses += s.misses();
            }
        }
        return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
    }

    @Override
    public void close() {
        try (ExecutorService closer = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ManagedAgent a : agents) {
                if (a != null) {
                    closer.submit(a::close);
                }
            }
        }
        source.close();
        manager.close();
    }
}
