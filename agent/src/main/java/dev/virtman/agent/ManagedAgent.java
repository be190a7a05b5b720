package dev.virtman.agent;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.cache.ChunkAccessListener;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.PrefetchReport;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.client.AgentSession;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.vm.VmDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An {@link Agent} run by the manager: registers this host, takes each image's manifest and
 * parent list from the manager, heartbeats (reporting chunks present) and moves to new parents
 * live when a heartbeat reply changes them, records the boot profile when it is the first agent
 * of an image, and prefetches from the profile at low priority when one exists.
 *
 * <p>Exports are named as the manager plans them ({@link TargetNames#agentIqn}), so children
 * find this host's export from their own parent lists. The cache directory of an image is its
 * image id; the manifest fetched from the manager is kept next to it.
 */
public final class ManagedAgent implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ManagedAgent.class);
    private static final String PLACED = "placed";
    private static final String MANIFESTS_DIR = "manifests";
    private static final Duration PLACEMENT_RETRY = Duration.ofMillis(500);
    private static final int LUN = 0;
    private static final long STOP_WAIT_SECONDS = 10;
    /** Silence on the stream after which the agent reconnects: the manager's default heartbeat timeout. */
    private static final Duration STREAM_TIMEOUT = Duration.ofSeconds(6);
    /** A report that differs only in chunk counts waits at most this long (they change constantly). */
    private static final Duration COUNTS_REFRESH = Duration.ofSeconds(10);
    /** Least time between two reports of the same silent parent (the fetcher already limits them). */
    private static final Duration REPORT_INTERVAL = Duration.ofSeconds(2);

    private final ManagedAgentConfig config;
    private final ManagerClient client;
    private final AgentSession stream;
    private final Agent agent;
    /** Boot-profile recorders of the images this agent boots first, by image id. */
    private final Map<String, BootProfileRecorder> recorders;
    private final ScheduledExecutorService heartbeats;
    private final long intervalMillis;
    private final Map<String, Boolean> profileUploaded = new ConcurrentHashMap<>();
    /** Images whose settled profile waits for a VM of this host to come up (logged once). */
    private final java.util.Set<String> profileHeldBack = ConcurrentHashMap.newKeySet();
    private final VolumeHost volumes;
    /** Threads feeding boot profiles to the caches' prefetchers; they end when the caches close. */
    private final List<Thread> profileFeeders = new CopyOnWriteArrayList<>();
    private volatile VmHost vmHost;
    /** Parent URL -> the host behind it, from the latest placements (the source has none). */
    private final Map<String, String> parentHosts = new ConcurrentHashMap<>();
    /** Parent host -> when this agent last reported it silent (System.nanoTime). */
    private final Map<String, Long> reportedAt = new ConcurrentHashMap<>();
    /** Who may log in to the image exports (children the manager names, this host's VMs), or null: anyone. */
    private final ExportAdmission admission;
    /** While frozen (a fault drill): no heartbeats, the target answers nothing. */
    private volatile boolean frozen;

    private ManagedAgent(final ManagedAgentConfig config, final ManagerClient client, final AgentSession stream,
                         final Agent agent, final Map<String, BootProfileRecorder> recorders, final long intervalMillis,
                         final ScheduledExecutorService heartbeats, final VolumeHost volumes) {
        this.config = config;
        this.client = client;
        this.stream = stream;
        this.agent = agent;
        this.volumes = volumes;
        this.recorders = recorders;
        this.intervalMillis = intervalMillis;
        this.heartbeats = heartbeats;
        this.admission = config.admitKnownOnly() ? new ExportAdmission(agent) : null;
    }

    /** Whether the agent of {@code hostId} holds its own host token in {@code cacheDir} (enrolled before). */
    public static boolean enrolled(final Path cacheDir, final String hostId) {
        return HostEnrolment.enrolled(cacheDir, hostId);
    }

    /** Registers, waits for placement, opens the caches and exports, starts heartbeats and prefetch. */
    public static ManagedAgent start(final ManagedAgentConfig config) throws IOException {
        ManagerClient client = HostEnrolment.hostClient(config);
        Map<String, ChunkManifest> manifests = new LinkedHashMap<>();
        PrivateFiles.createDirectories(config.cacheDir());
        Path manifestDir = PrivateFiles.createDirectories(config.cacheDir().resolve(MANIFESTS_DIR));
        PrivateFiles.secureTree(manifestDir);
        Map<String, Path> manifestFiles = new LinkedHashMap<>();
        for (String ref : config.images()) {
            ImageView view = client.image(ref);
            ChunkManifest manifest = ManifestFormat.decode(client.manifest(view.id()));
            Path file = manifestDir.resolve(view.id());
            ManifestFormat.write(manifest, file);
            manifests.put(view.id(), manifest);
            manifestFiles.put(view.id(), file);
        }
        // Registering starts the manager's liveness clock, so it comes after the manifest downloads
        // (2 MiB each for a 4 GiB image; 100 agents fetching theirs at once took over the 5 s
        // heartbeat timeout) and right before the first heartbeat.
        client.registerHost(config.hostId(), config.portalString(), config.labels());
        // The stream to the manager: reports when they change, pings every interval, replies
        // pushed when placement changes. Until this agent is built, replies are only recorded.
        AtomicReference<HeartbeatReply> latest = new AtomicReference<>();
        AtomicReference<ManagedAgent> built = new AtomicReference<>();
        AgentSession stream = new AgentSession(client, config.hostId(), reply -> {
            latest.set(reply);
            ManagedAgent managed = built.get();
            if (managed != null) {
                managed.pushed(reply);
            }
        }, STREAM_TIMEOUT, COUNTS_REFRESH, null);
        HeartbeatReply placed;
        try {
            placed = awaitPlacement(config, stream, latest, manifests);
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
        List<ImageConfig> images = new ArrayList<>();
        Map<String, BootProfileRecorder> recorders = new LinkedHashMap<>();
        List<String> withProfile = new ArrayList<>();
        for (Map.Entry<String, ChunkManifest> e : manifests.entrySet()) {
            String id = e.getKey();
            HeartbeatReply.Placement p = placed.images().get(id);
            images.add(new ImageConfig(id, urls(p.parents()), manifestFiles.get(id),
                    TargetNames.agentIqn(config.hostId(), id)));
            if (p.bootProfile()) {
                withProfile.add(id);
            } else {
                recorders.put(id, new BootProfileRecorder(e.getValue().chunkCount()));
            }
        }
        AgentConfig agentConfig = new AgentConfig(images, config.portal(), config.metrics(), config.cacheDir(),
                config.upstreamBytesPerSecond(), config.downstreamBytesPerSecond(), config.fetchPolicy(), null,
                config.cacheLimitBytes(), config.scrubBytesPerSecond());
        ParentConnector connector = new ParentConnector(InitiatorOptions.defaults()
                .withInitiatorName(TargetNames.hostInitiator(config.hostId())));
        long interval = placed.heartbeatIntervalMillis();
        ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("agent-heartbeat").factory());
        // The manager's liveness clock runs from the placement report. Opening caches and exports
        // can take longer than its timeout when many agents start at once on a busy machine (a
        // 100-host storm: 118 hosts failed before any VM started), so the stream keeps pinging
        // with the placement report until the agent can report its caches.
        HeartbeatRequest placement = placementReport(config, manifests.keySet());
        ScheduledFuture<?> placedHeartbeats = heartbeats.scheduleWithFixedDelay(
                () -> tickQuietly(config, client, stream, placement), interval, interval, TimeUnit.MILLISECONDS);
        Agent agent;
        try {
            agent = Agent.start(agentConfig, connector,
                    id -> recorders.containsKey(id) ? recorders.get(id) : ChunkAccessListener.NONE,
                    config.advertisedPortal());
        } catch (IOException | RuntimeException e) {
            heartbeats.shutdownNow();
            stream.close();
            throw e;
        }
        VolumeHost volumes;
        try {
            volumes = new VolumeHost(agent, config.hostId(), client, connector,
                    config.cacheDir().resolve(VolumeHost.VOLUMES_DIR), manifestDir);
        } catch (IOException | RuntimeException e) {
            heartbeats.shutdownNow();
            stream.close();
            agent.close();
            throw e;
        }
        placedHeartbeats.cancel(false);
        ManagedAgent managed = new ManagedAgent(config, client, stream, agent, recorders, interval, heartbeats,
                volumes);
        placed.images().values().forEach(p -> managed.noteParents(p.parents()));
        for (ImageExport image : agent.images()) {
            image.onSilentParent(managed::reportSilent);
        }
        built.set(managed);
        // The latest reply (the placement one, or a push since) carries this host's volumes: apply it even
        // when nothing came after the placement, or a restarted agent would never export its volumes.
        managed.pushed(latest.get());
        heartbeats.scheduleWithFixedDelay(managed::heartbeat, 0, interval, TimeUnit.MILLISECONDS);
        for (String id : withProfile) {
            managed.profileFeeders.add(Thread.ofPlatform().daemon().priority(Thread.MIN_PRIORITY)
                    .name("profile-prefetch-" + id).start(() -> managed.prefetchProfile(id)));
        }
        return managed;
    }

    /** Reports on the stream until the manager has placed this host in every image's tree. */
    private static HeartbeatReply awaitPlacement(final ManagedAgentConfig config, final AgentSession stream,
                                                 final AtomicReference<HeartbeatReply> latest,
                                                 final Map<String, ChunkManifest> manifests) throws IOException {
        HeartbeatRequest report = placementReport(config, manifests.keySet());
        long deadline = System.nanoTime() + config.placementTimeout().toNanos();
        while (true) {
            stream.tick(report);
            HeartbeatReply reply = latest.get();
            List<String> waiting = manifests.keySet().stream()
                    .filter(id -> reply == null || reply.images().get(id) == null
                            || !PLACED.equals(reply.images().get(id).status()))
                    .toList();
            // An agent with no images still needs the manager's first reply (its heartbeat interval).
            if (reply != null && waiting.isEmpty()) {
                return reply;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the manager did not place host " + config.hostId() + " in the trees of "
                        + waiting + " within " + config.placementTimeout());
            }
            try {
                Thread.sleep(PLACEMENT_RETRY);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for placement", e);
            }
        }
    }

    /**
     * The report sent while the agent starts: the images it is joining, no chunks yet, and the
     * volumes on disk from the first report on (the manager forgets a deleted volume once it is
     * not reported, and its files must go first).
     */
    private static HeartbeatRequest placementReport(final ManagedAgentConfig config, final Set<String> images) {
        Map<String, HeartbeatRequest.ImageReport> reports = new LinkedHashMap<>();
        images.forEach(id -> reports.put(id, new HeartbeatRequest.ImageReport(0)));
        return new HeartbeatRequest(config.hostId(), reports, List.of(),
                VolumeHost.volumesOnDisk(config.cacheDir().resolve(VolumeHost.VOLUMES_DIR)));
    }

    /** One stream tick that never throws; re-registers when the manager no longer knows the host. */
    private static void tickQuietly(final ManagedAgentConfig config, final ManagerClient client,
                                    final AgentSession stream, final HeartbeatRequest report) {
        try {
            stream.tick(report);
        } catch (RuntimeException e) {
            LOG.warn("stream to {} failed: {}", client.base(), e.getMessage());
            if (stream.unknownHost()) {
                try {
                    client.registerHost(config.hostId(), config.portalString(), config.labels());
                } catch (RuntimeException again) {
                    LOG.warn("re-registering {} failed: {}", config.hostId(), again.getMessage());
                }
            }
        }
    }

    /** Parent portals as the agent's upstream URLs, preference order kept (the source last). */
    static List<String> urls(final List<Portal> parents) {
        return parents.stream().map(p -> "iscsi://" + p.portal() + "/" + p.iqn() + "/" + LUN).toList();
    }

    public Agent agent() {
        return agent;
    }

    /** The volumes this agent exports, by volume id. */
    public Map<String, VolumeExport> volumes() {
        return volumes.volumes();
    }

    /** Images opened for volumes (not among the configured images), by image id. */
    public Map<String, ImageExport> volumeImages() {
        return volumes.baseImages();
    }

    private void noteParents(final List<Portal> parents) {
        List<String> u = urls(parents);
        for (int i = 0; i < parents.size(); i++) {
            if (parents.get(i).hostId() != null) {
                parentHosts.put(u.get(i), parents.get(i).hostId());
            }
        }
    }

    /**
     * A fetcher found the parent at {@code url} silent: tells the manager (POST
     * /v1/failure-reports) on a thread of its own, at most once per {@link #REPORT_INTERVAL} per
     * host. The manager re-parents the silent host's children once a second child agrees or the
     * host's heartbeats have stopped too; one child's word alone moves nothing.
     */
    void reportSilent(final String url) {
        String parent = parentHosts.get(url);
        if (parent == null || frozen) {
            return; // the source, or a host this agent no longer has as a parent
        }
        long now = System.nanoTime();
        boolean[] due = {false};
        reportedAt.compute(parent, (host, last) -> {
            due[0] = last == null || now - last >= REPORT_INTERVAL.toNanos();
            return due[0] ? now : last;
        });
        if (!due[0]) {
            return;
        }
        Thread.ofVirtual().name("report-silent-" + parent).start(() -> {
            try {
                LOG.warn("parent {} ({}) is silent; reporting it to the manager: {}", parent, url,
                        client.reportFailure(config.hostId(), parent).verdict());
            } catch (RuntimeException e) {
                LOG.warn("reporting silent parent {} failed: {}", parent, e.toString());
            }
        });
    }

    /**
     * Stops answering anything, as a host that lost power or its network looks to peers: no
     * heartbeats, and the iSCSI target neither reads nor writes its connections (they stay open).
     * For fault drills ({@code virtman bench storm --freeze-interior}); {@link #thaw} undoes it.
     */
    public void freeze() {
        frozen = true;
        agent.freeze();
    }

    /** Ends a {@link #freeze}: connections are served again and heartbeats resume. */
    public void thaw() {
        agent.thaw();
        frozen = false;
    }

    /** One interval: report on the stream (sent only if changed), ping, upload a settled boot profile. Never throws. */
    void heartbeat() {
        if (frozen) {
            return;
        }
        try {
            Map<String, HeartbeatRequest.ImageReport> reports = new LinkedHashMap<>();
            for (ImageExport image : agent.images()) {
                reports.put(image.name(), new HeartbeatRequest.ImageReport(image.stats().presentChunks()));
            }
            reports.putAll(volumes.imageReports());
            tickQuietly(config, client, stream,
                    new HeartbeatRequest(config.hostId(), reports, volumes.exportedVolumes(), volumes.volumeFiles()));
            uploadSettledProfiles();
        } catch (RuntimeException e) {
            LOG.warn("heartbeat to {} failed: {}", client.base(), e.toString());
        }
    }

    /** A reply the manager pushed: applied on the heartbeat thread (volume work may take a while). */
    private void pushed(final HeartbeatReply reply) {
        try {
            heartbeats.execute(() -> apply(reply));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the agent is stopping
        }
    }

    /** Applies parent changes and the volume set of a reply. Never throws. */
    void apply(final HeartbeatReply reply) {
        try {
            volumes.apply(reply);
            if (admission != null) {
                admission.placements(reply.images());
            }
            for (ImageExport image : agent.images()) {
                HeartbeatReply.Placement p = reply.images().get(image.name());
                if (p != null && PLACED.equals(p.status()) && !p.parents().isEmpty()) {
                    noteParents(p.parents());
                    image.replaceParents(urls(p.parents()));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("applying the manager's reply failed: {}", e.toString());
        }
    }

    private void uploadSettledProfiles() {
        long now = System.nanoTime();
        for (Map.Entry<String, BootProfileRecorder> e : recorders.entrySet()) {
            String id = e.getKey();
            if (profileUploaded.containsKey(id) || !e.getValue().quietFor(config.profileQuiet().toNanos(), now)) {
                continue;
            }
            VmHost vms = vmHost;
            if (vms != null && !vms.bootedUp(id)) {
                // Reads of a boot that has not come up (no boot loader, a crash, still booting) are
                // no profile: a failed boot once stored {"chunks":[0]} for everyone after it.
                if (profileHeldBack.add(id)) {
                    LOG.info("image {}: boot profile held back until a VM of it comes up on this host", id);
                }
                continue;
            }
            List<Integer> chunks = e.getValue().chunks();
            try {
                client.putProfile(id, chunks, config.hostId(), false);
                LOG.info("image {}: uploaded boot profile of {} chunks", id, chunks.size());
            } catch (ManagerClientException ex) {
                // Another agent's first boot won the race (409): its profile is as good as ours.
                LOG.info("image {}: boot profile not uploaded: {}", id, ex.getMessage());
            }
            profileUploaded.put(id, Boolean.TRUE);
        }
    }

    /**
     * Prefetches the whole boot profile in boot order on the cache's low-priority prefetch
     * threads ({@link ChunkCache#prefetchInOrder}); this thread waits for queue space, so a
     * profile longer than the prefetch queue is not cut short. Returns when done or closed.
     */
    void prefetchProfile(final String id) {
        try {
            BootProfileView profile = client.profile(id);
            ChunkCache cache = agent.image(id).cache();
            int chunkCount = cache.manifest().chunkCount();
            List<Integer> chunks = profile.chunks().stream().filter(c -> c != null && c >= 0 && c < chunkCount)
                    .toList();
            if (chunks.size() < profile.chunks().size()) {
                LOG.warn("image {}: ignoring {} boot-profile entries outside the image's {} chunks", id,
                        profile.chunks().size() - chunks.size(), chunkCount);
            }
            LOG.info("image {}: prefetching {} boot-profile chunks", id, chunks.size());
            long start = System.nanoTime();
            PrefetchReport report = cache.prefetchInOrder(chunks);
            LOG.info("image {}: boot-profile prefetch {} in {} ms: {} of {} chunks loaded, {} already cached or"
                    + " in flight, {} failed, {} abandoned", id, report.finished() ? "done" : "stopped",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), report.loaded(), report.requested(),
                    report.skipped(), report.failed(), report.abandoned());
        } catch (InterruptedException e) {
            LOG.info("image {}: boot-profile prefetch stopped", id);
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("image {}: boot profile prefetch failed: {}", id, e.toString());
        }
    }

    /**
     * Runs the VMs the manager orders on this host with {@code driver}, syncing every
     * {@code interval} (see {@link VmHost}). Call once; {@link #close} stops them.
     */
    public synchronized VmHost hostVms(final VmDriver driver, final Duration interval) {
        if (vmHost != null) {
            throw new IllegalStateException("this agent already hosts VMs");
        }
        vmHost = VmHost.start(client, config.hostId(), agent, driver, interval);
        VmHost vms = vmHost;
        if (admission != null) {
            vms.onVmsChanged(admission::apply);
            admission.vms(vms::initiators);
        }
        return vmHost;
    }

    @Override
    public void close() {
        VmHost vms = vmHost;
        if (vms != null) {
            vms.close();
        }
        heartbeats.shutdownNow();
        try {
            // A heartbeat in progress may be creating a volume: let it finish before the files close.
            heartbeats.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stream.close();
        volumes.close();
        agent.close();
        // Closing the caches ends their in-order prefetches; a feeder still asking the manager
        // for its profile is interrupted.
        for (Thread feeder : profileFeeders) {
            feeder.interrupt();
            try {
                feeder.join(TimeUnit.SECONDS.toMillis(STOP_WAIT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
