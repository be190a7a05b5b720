package dev.virtman.agent;

import dev.virtman.block.TokenBucket;
import dev.virtman.block.cache.CacheDirectory;
import dev.virtman.block.cache.CacheScrubber;
import dev.virtman.block.cache.CacheSpaceManager;
import dev.virtman.block.cache.CacheStats;
import dev.virtman.block.cache.ChunkAccessListener;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ParentSet;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A VirtMan agent: for each configured image, the {@link ImageExport} stack (parents, verify,
 * cache), all exported as read-only targets on one iSCSI portal, plus the metrics endpoint.
 * Local VMs (QEMU {@code iscsi://}) and child agents log in to that portal; a child agent lists
 * this agent's export as its parent, so agents chain to any depth.
 *
 * <p>The upstream and downstream caps are one token bucket each, shared by all images: the caps
 * describe the host's links, not an image.
 *
 * <p>All images cache under one {@link CacheDirectory} ({@code cacheDir/<image id>}) holding the
 * host's cache limit: each export leases its image for as long as it runs, so only images no
 * agent exports (left by earlier runs) are evicted, least recently used first.
 */
public final class Agent implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    /** The target server's session gauge (registered in the agent's registry). */
    static final String SESSIONS_GAUGE = "virtman.iscsi.target.sessions";
    static final String CACHE_USED_GAUGE = "virtman.cache.root.used";
    static final String CACHE_EVICTIONS_GAUGE = "virtman.cache.root.evictions";

    private final AgentConfig config;
    private final PrometheusMeterRegistry registry;
    private final CacheDirectory cacheRoot;
    private final List<ImageExport> images;
    private final IscsiTargetServer server;
    private final MetricsEndpoint metrics;
    /** The host's link caps, shared by every export and fetch (null: no cap). */
    private final TokenBucket upstreamCap;
    private final TokenBucket downstreamCap;
    /** Re-verifies cached chunks in the background (null when {@code --scrub-rate 0}). */
    private volatile CacheScrubber scrubber;

    private Agent(final AgentConfig config, final PrometheusMeterRegistry registry, final CacheDirectory cacheRoot,
                  final List<ImageExport> images, final IscsiTargetServer server, final MetricsEndpoint metrics,
                  final TokenBucket upstreamCap, final TokenBucket downstreamCap) {
        this.config = config;
        this.registry = registry;
        this.cacheRoot = cacheRoot;
        this.images = List.copyOf(images);
        this.server = server;
        this.metrics = metrics;
        this.upstreamCap = upstreamCap;
        this.downstreamCap = downstreamCap;
    }

    /** Opens every image's cache, starts the iSCSI portal and the metrics endpoint. */
    public static Agent start(final AgentConfig config) throws IOException {
        String name = ParentConnector.initiatorNameFor(config.portal().getHostString());
        return start(config, new ParentConnector(InitiatorOptions.defaults().withInitiatorName(name)));
    }

    static Agent start(final AgentConfig config, final ParentConnector connector) throws IOException {
        return start(config, connector, name -> ChunkAccessListener.NONE);
    }

    /**
     * @param listeners per image name, who hears its chunk reads (the boot-profile recorder of a
     *                  managed agent)
     */
    static Agent start(final AgentConfig config, final ParentConnector connector,
                       final Function<String, ChunkAccessListener> listeners) throws IOException {
        return start(config, connector, listeners, null);
    }

    /**
     * @param advertised the portal SendTargets names instead of the bound one (a host behind NAT
     *                   or a port forward: {@code agent --advertise}), or null
     */
    static Agent start(final AgentConfig config, final ParentConnector connector,
                       final Function<String, ChunkAccessListener> listeners,
                       final InetSocketAddress advertised) throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        TokenBucket upstream = BandwidthCap.bucket(config.upstreamBytesPerSecond());
        TokenBucket downstream = BandwidthCap.bucket(config.downstreamBytesPerSecond());
        ChunkCache.Options cacheOptions = ChunkCache.Options.defaults(registry);
        Map<ImageConfig, ChunkManifest> manifests = manifests(config);
        for (Map.Entry<ImageConfig, ChunkManifest> e : manifests.entrySet()) {
            adoptNamedCache(config.cacheDir(), e.getKey().name(), e.getValue());
        }
        CacheDirectory cacheRoot = CacheDirectory.open(config.cacheDir(), config.effectiveCacheLimit());
        Gauge.builder(CACHE_USED_GAUGE, cacheRoot.space(), CacheSpaceManager::usedBytes).baseUnit("bytes")
                .description("bytes all image caches of the cache root hold").register(registry);
        Gauge.builder(CACHE_EVICTIONS_GAUGE, cacheRoot.space(), CacheSpaceManager::evictions)
                .description("idle images evicted to stay under the cache limit").register(registry);
        List<ImageExport> images = new ArrayList<>();
        IscsiTargetServer server = null;
        MetricsEndpoint metrics = null;
        try {
            for (Map.Entry<ImageConfig, ChunkManifest> e : manifests.entrySet()) {
                ImageConfig image = e.getKey();
                ChunkManifest manifest = e.getValue();
                images.add(ImageExport.open(image, manifest, cacheRoot, ExportOptions.of(connector, config.fetchPolicy(),
                                cacheOptions.withAccessListener(listeners.apply(image.name())))
                        .withCaps(upstream, downstream).withReadTrace(config.readTraceFile(image.name()))));
            }
            List<ExportedTarget> targets = images.stream()
                    .map(i -> new ExportedTarget(i.iqn(), i.luns(), null, Set.of(), i.firstReads())).toList();
            TargetServerConfig serverConfig = new TargetServerConfig(config.portal(), targets);
            server = IscsiTargetServer.start(advertised == null ? serverConfig : serverConfig.withAdvertisedPortal(advertised),
                    registry);
            Agent agent = new Agent(config, registry, cacheRoot, images, server, null, upstream, downstream);
            if (config.metrics() != null) {
                metrics = MetricsEndpoint.start(config.metrics(), registry, agent::status);
                agent = new Agent(config, registry, cacheRoot, images, server, metrics, upstream, downstream);
            }
            List<ChunkCache> caches = images.stream().map(ImageExport::cache).toList();
            agent.scrubber = CacheScrubber.start(() -> caches, config.scrubBytesPerSecond(), registry);
            LOG.info("agent exporting {} on {}", images.stream().map(ImageExport::iqn).toList(), server.localAddress());
            return agent;
        } catch (IOException | RuntimeException e) {
            closeQuietly(metrics);
            closeQuietly(server);
            images.forEach(Agent::closeQuietly);
            closeQuietly(cacheRoot);
            throw e;
        }
    }

    /** Reads every image's manifest; one image id may be exported under one name only (one lease). */
    private static Map<ImageConfig, ChunkManifest> manifests(final AgentConfig config) throws IOException {
        Map<ImageConfig, ChunkManifest> manifests = new LinkedHashMap<>();
        Map<String, String> nameById = new HashMap<>();
        for (ImageConfig image : config.images()) {
            ChunkManifest manifest = ManifestFormat.read(image.manifest());
            String other = nameById.putIfAbsent(manifest.imageIdHex(), image.name());
            if (other != null) {
                throw new IllegalArgumentException("images " + other + " and " + image.name()
                        + " are the same image (" + manifest.imageIdHex() + "); export it once");
            }
            manifests.put(image, manifest);
        }
        return manifests;
    }

    /**
     * Before the cache root was keyed by image id, a standalone agent cached image {@code name} in
     * {@code cacheDir/name}: moves such a cache to {@code cacheDir/<image id>} when it holds this
     * image, so an upgraded agent keeps what it fetched instead of fetching it again.
     */
    private static void adoptNamedCache(final Path cacheDir, final String name, final ChunkManifest manifest)
            throws IOException {
        Path old = cacheDir.resolve(name);
        Path current = cacheDir.resolve(manifest.imageIdHex());
        if (old.equals(current) || !Files.isDirectory(old) || Files.exists(current)) {
            return;
        }
        Path oldManifest = old.resolve(ChunkCache.MANIFEST_FILE);
        try {
            if (!Files.exists(oldManifest)
                    || !ManifestFormat.read(oldManifest).imageIdHex().equals(manifest.imageIdHex())) {
                LOG.warn("cache {} does not hold image {} ({}); leaving it alone", old, name, manifest.imageIdHex());
                return;
            }
        } catch (IOException e) {
            LOG.warn("cache {}: unreadable manifest, leaving it alone ({})", old, e.getMessage());
            return;
        }
        Files.move(old, current);
        LOG.info("cache of image {} moved from {} to {}", name, old, current);
    }

    public AgentConfig config() {
        return config;
    }

    /** The bound iSCSI portal (the real port when the config asked for port 0). */
    public InetSocketAddress portal() {
        return server.localAddress();
    }

    /** The bound metrics address, or null when the agent has no metrics endpoint. */
    public InetSocketAddress metricsAddress() {
        return metrics == null ? null : metrics.address();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public List<ImageExport> images() {
        return images;
    }

    /** The bucket every fetch from a parent draws from ({@code --upstream-cap}), or null. */
    TokenBucket upstreamCap() {
        return upstreamCap;
    }

    /** The bucket every read served to initiators draws from ({@code --downstream-cap}), or null. */
    TokenBucket downstreamCap() {
        return downstreamCap;
    }

    /** The cache root all images cache in, with the host's cache limit. */
    public CacheDirectory cacheRoot() {
        return cacheRoot;
    }

    public ImageExport image(final String name) {
        return images.stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no image " + name));
    }

    /** The URL a VM or child agent uses for {@code image}: {@code iscsi://HOST:PORT/IQN/0}. */
    public String exportUrl(final String image) {
        InetSocketAddress a = portal();
        return "iscsi://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/" + image(image).iqn() + "/0";
    }

    /** Exports one more target on the agent's portal (a volume, or an image opened for volumes). */
    /** Lets only {@code initiators} log in to export {@code iqn} ({@link IscsiTargetServer#admitOnly}). */
    public boolean admitOnly(final String iqn, final java.util.Set<String> initiators) {
        return server.admitOnly(iqn, initiators);
    }

    public void addTarget(final ExportedTarget target) {
        server.addTarget(target);
    }

    /** Stops exporting {@code iqn} and drops its sessions; returns whether it was exported. */
    public boolean removeTarget(final String iqn) {
        return server.removeTarget(iqn);
    }

    public AgentStatus status() {
        List<AgentStatus.Image> list = new ArrayList<>();
        for (ImageExport i : images) {
            CacheStats s = i.stats();
            List<AgentStatus.Parent> parents = new ArrayList<>();
            for (ParentSet.Parent p : i.parentSet().parents()) {
                parents.add(new AgentStatus.Parent(p.name(), (long) p.bytesFetched()));
            }
            list.add(new AgentStatus.Image(i.name(), i.iqn(), i.manifest().imageIdHex(), i.manifest().imageSize(),
                    i.manifest().chunkSize(), s.chunkCount(), s.presentChunks(), s.hits(), s.misses(), s.fetches(),
                    s.repairs(), i.presentAtOpen(), s.bytesServed(), parents));
        }
        InetSocketAddress a = portal();
        return new AgentStatus(a.getAddress().getHostAddress() + ":" + a.getPort(), sessions(), list);
    }

    /** iSCSI sessions in the full feature phase, as the target server counts them. */
    private int sessions() {
        Gauge g = registry.find(SESSIONS_GAUGE).gauge();
        return g == null ? 0 : (int) g.value();
    }

    /** Makes this agent's iSCSI target go silent (connections open, nothing answered): a fault drill. */
    public void freeze() {
        server.pause();
    }

    /** Ends a {@link #freeze}. */
    public void thaw() {
        server.resume();
    }

    @Override
    public void close() {
        closeQuietly(scrubber);
        closeQuietly(metrics);
        closeQuietly(server);
        images.forEach(Agent::closeQuietly);
        closeQuietly(cacheRoot);
        registry.close();
    }

    private static void closeQuietly(final AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {}: {}", c, e.toString());
        }
    }
}
