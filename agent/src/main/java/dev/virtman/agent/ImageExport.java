package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.RateLimitedBlockDevice;
import dev.virtman.block.TokenBucket;
import dev.virtman.block.cache.CacheDirectory;
import dev.virtman.block.cache.CacheStats;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.cache.ChunkFetcher;
import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.block.cache.HedgeBudget;
import dev.virtman.block.cache.ParentSet;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.scsi.DiskIdentity;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * One image's data path on an agent, bottom to top:
 * <pre>
 *   parents (iscsi:// | file://, preference order) -- upstream cap
 *     -> ChunkFetcher (timeout, SHA-256 verify, failover)   [ParentSet]
 *     -> ChunkCache (sparse file + presence bitmap)        [lease of cache root/image id]
 *     -> downstream cap -> read trace (optional)
 *     -> ScsiDisk (read-only, identity from the image id) -> LunTable (LUN 0)
 * </pre>
 * Every agent exporting the same image reports the same SCSI identity (derived from the image
 * id), so an initiator that reconnects to a restarted agent sees the same disk.
 */
public final class ImageExport implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ImageExport.class);

    private final ImageConfig config;
    private final ChunkManifest manifest;
    private final ChunkCache cache;
    private final CacheDirectory.Lease lease;
    /** The cache root this export opened for itself (the Path overload), closed with it; else null. */
    private final CacheDirectory ownedRoot;
    private final UpstreamSwitch upstream;
    private final LunTable luns;
    private final ParentConnector connector;
    private final TokenBucket upstreamCap;
    private final FetchPolicy policy;
    private final MeterRegistry registry;
    private final BlockDevice exported;
    private final int presentAtOpen;
    private final FirstReads firstReads = new FirstReads();
    private volatile List<String> parents;
    private final Hedging hedging;

    /**
     * What every fetcher of this export shares across parent changes: the hedge budget, and
     * where to tell that a parent (by URL) has gone silent.
     */
    private record Hedging(HedgeBudget budget, AtomicReference<Consumer<String>> onSilent) {
        static Hedging of(final FetchPolicy policy, final MeterRegistry registry) {
            return new Hedging(ChunkFetcher.budget(policy, registry), new AtomicReference<>(url -> { }));
        }
    }

    private ImageExport(final ImageConfig config, final ChunkManifest manifest, final CacheDirectory.Lease lease,
                        final CacheDirectory ownedRoot, final UpstreamSwitch upstream, final LunTable luns, final ParentConnector connector,
                        final TokenBucket upstreamCap, final FetchPolicy policy, final MeterRegistry registry,
                        final BlockDevice exported, final Hedging hedging) {
        this.config = config;
        this.hedging = hedging;
        this.manifest = manifest;
        this.lease = lease;
        this.cache = lease.cache();
        this.ownedRoot = ownedRoot;
        this.upstream = upstream;
        this.luns = luns;
        this.connector = connector;
        this.upstreamCap = upstreamCap;
        this.policy = policy;
        this.registry = registry;
        this.exported = exported;
        this.presentAtOpen = cache.stats().presentChunks();
        this.parents = config.parents();
    }

    /**
     * Builds the stack over an unlimited cache root of its own ({@code cacheRoot/<image id>}),
     * closed with the export: for a single image outside an {@link Agent}.
     */
    public static ImageExport open(final ImageConfig config, final ChunkManifest manifest, final Path cacheRoot,
                                   final ExportOptions options) throws IOException {
        CacheDirectory root = CacheDirectory.open(cacheRoot, Long.MAX_VALUE);
        try {
            return open(config, manifest, root, root, options);
        } catch (IOException | RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /**
     * Builds the stack on a lease of the image's cache in {@code cacheRoot} (reopening what a
     * previous run cached). The lease is held until {@link #close}, so the host's cache limit never
     * evicts an image while it is exported. Parents connect lazily, so this succeeds while they are down.
     */
    public static ImageExport open(final ImageConfig config, final ChunkManifest manifest,
                                   final CacheDirectory cacheRoot, final ExportOptions options) throws IOException {
        return open(config, manifest, cacheRoot, null, options);
    }

    private static ImageExport open(final ImageConfig config, final ChunkManifest manifest,
                                    final CacheDirectory cacheRoot, final CacheDirectory ownedRoot,
                                    final ExportOptions options) throws IOException {
        ParentConnector connector = options.connector();
        TokenBucket upstreamCap = options.upstreamCap();
        TokenBucket downstreamCap = options.downstreamCap();
        FetchPolicy policy = options.policy();
        ChunkCache.Options cacheOptions = options.cacheOptions();
        Path readTrace = options.readTrace();
        MeterRegistry registry = cacheOptions.registry();
        Hedging hedging = Hedging.of(policy, registry);
        ChunkFetcher fetcher = fetcher(config.parents(), manifest, connector, upstreamCap, policy, registry, hedging);
        UpstreamSwitch upstream = new UpstreamSwitch(fetcher);
        CacheDirectory.Lease lease = cacheRoot.open(manifest, upstream, cacheOptions);
        try {
            ChunkCache cache = lease.cache();
            BlockDevice exported = downstreamCap == null ? cache : new RateLimitedBlockDevice(cache, downstreamCap);
            if (readTrace != null) {
                exported = ReadTraceRecorder.create(exported, readTrace);
            }
            DiskIdentity identity = DiskIdentity.fromName(manifest.imageIdHex()).withForcedReadOnly(true);
            LunTable luns = new LunTable(List.of(new ScsiDisk(exported, identity)));
            return new ImageExport(config, manifest, lease, ownedRoot, upstream, luns, connector, upstreamCap, policy,
                    registry, exported, hedging);
        } catch (IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    private static ChunkFetcher fetcher(final List<String> urls, final ChunkManifest manifest,
                                        final ParentConnector connector, final TokenBucket upstreamCap,
                                        final FetchPolicy policy, final MeterRegistry registry,
                                        final Hedging hedging) {
        List<ParentSet.Named> named = new ArrayList<>(urls.size());
        for (String url : urls) {
            LazyParentDevice parent = new LazyParentDevice(url, manifest.imageSize(), connector);
            named.add(new ParentSet.Named(url, upstreamCap == null ? parent : new RateLimitedBlockDevice(parent, upstreamCap),
                    parent::answers));
        }
        return new ChunkFetcher(manifest, new ParentSet(named, policy.parentCooldown(), registry), policy,
                hedging.budget(), (parent, nanos) -> hedging.onSilent().get().accept(parent.name()));
    }

    public ImageConfig config() {
        return config;
    }

    /** When each initiator (one per VM) first read this export. */
    public FirstReads firstReads() {
        return firstReads;
    }

    public String name() {
        return config.name();
    }

    public String iqn() {
        return config.iqn();
    }

    public ChunkManifest manifest() {
        return manifest;
    }

    public ChunkCache cache() {
        return cache;
    }

    /** The SCSI executor the iSCSI target runs this image's commands on. */
    public LunTable luns() {
        return luns;
    }

    public List<String> parents() {
        return parents;
    }

    /** This export's hedge budget and its counts (sent, won, refused). */
    public HedgeBudget hedgeBudget() {
        return hedging.budget();
    }

    /**
     * Tells {@code listener} the URL of each parent that goes silent (answers nothing for its
     * silence threshold). Called on a fetching thread: the listener must not block.
     */
    public void onSilentParent(final Consumer<String> listener) {
        hedging.onSilent().set(listener);
    }

    public ParentSet parentSet() {
        return upstream.current().parents();
    }

    /** Chunks the cache held when it was opened: what survived the previous run. */
    public int presentAtOpen() {
        return presentAtOpen;
    }

    public CacheStats stats() {
        return cache.stats();
    }

    /**
     * Moves future fetches to {@code urls} (preference order, source last). Fetches in flight
     * finish on the old parents, whose connections are then closed.
     */
    public synchronized void replaceParents(final List<String> urls) {
        if (urls.isEmpty() || urls.equals(parents)) {
            return;
        }
        ChunkFetcher next = fetcher(urls, manifest, connector, upstreamCap, policy, registry, hedging);
        ChunkFetcher old = upstream.swap(next);
        parents = List.copyOf(urls);
        LOG.info("image {}: parents now {}", config.name(), urls);
        Thread.ofVirtual().name("close-parents-" + config.name()).start(() -> closeParents(old, policy));
    }

    private static void closeParents(final ChunkFetcher old, final FetchPolicy policy) {
        try {
            // Let fetches still running on the old parents finish before their connections go.
            Thread.sleep(policy.attemptTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Closed only now: a fetch still running on the old fetcher moves on to its next parent
        // or round through the fetcher's executor, and closing that at the swap made every such
        // attempt fail with RejectedExecutionException.
        old.close();
        closeAll(old.parents());
    }

    private static void closeAll(final ParentSet set) {
        for (ParentSet.Parent p : set.parents()) {
            try {
                p.device().close();
            } catch (IOException e) {
                LOG.debug("closing parent {}: {}", p.name(), e.toString());
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            // Closes the filters above the cache (a trace file) and the cache itself; the lease
            // then lets the cache limit evict the image. An agent never leases one image twice.
            exported.close();
            lease.close();
        } finally {
            ChunkFetcher f = upstream.current();
            f.close();
            closeAll(f.parents());
            if (ownedRoot != null) {
                ownedRoot.close();
            }
        }
    }
}
