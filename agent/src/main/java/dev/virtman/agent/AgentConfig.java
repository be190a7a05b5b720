package dev.virtman.agent;

import dev.virtman.block.cache.FetchPolicy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a standalone {@link Agent} needs: the images, where to cache them, where to export
 * them, and its limits. One configuration model for the CLI, tests and benchmarks.
 *
 * @param images            exported images, each its own target (distinct names)
 * @param portal            iSCSI listen address of the exports; port 0 picks a free port
 * @param metrics           HTTP listen address of {@code /metrics} and {@code /status}, or null for none
 * @param cacheDir          directory holding one cache directory per image
 * @param upstreamBytesPerSecond   cap on all fetches from parents together, 0 = none
 * @param downstreamBytesPerSecond cap on all reads served from the exports together, 0 = none
 * @param fetchPolicy       per-chunk timeout, retries and parent cool-down
 * @param readTraceDir      directory for one read trace per image ({@code <name>.csv}), or null
 * @param cacheLimitBytes   most bytes all image caches in {@code cacheDir} may hold together, 0 = no limit;
 *                          idle images are evicted, least recently used first, to stay under it
 */
public record AgentConfig(List<ImageConfig> images, InetSocketAddress portal, InetSocketAddress metrics,
                          Path cacheDir, long upstreamBytesPerSecond, long downstreamBytesPerSecond,
                          FetchPolicy fetchPolicy, Path readTraceDir, long cacheLimitBytes, long scrubBytesPerSecond) {

    /**
     * 4 MiB/s: a full 15 GB image cache re-verified about once an hour, for about 2% of one core
     * (SHA-256) and a disk read rate no VM notices. 0 turns the scrub off.
     */
    public static final long DEFAULT_SCRUB_BYTES_PER_SECOND = 4L << 20;

    public AgentConfig {
        // No images is allowed for a managed agent that serves volumes only (the CLI requires
        // images in standalone mode).
        images = List.copyOf(images);
        if (images.stream().map(ImageConfig::name).distinct().count() != images.size()) {
            throw new IllegalArgumentException("image names must be distinct");
        }
        if (upstreamBytesPerSecond < 0 || downstreamBytesPerSecond < 0) {
            throw new IllegalArgumentException("bandwidth caps must be >= 0");
        }
        if (cacheLimitBytes < 0) {
            throw new IllegalArgumentException("the cache limit must be >= 0");
        }
        if (scrubBytesPerSecond < 0) {
            throw new IllegalArgumentException("the scrub rate must be >= 0");
        }
        fetchPolicy = fetchPolicy == null ? FetchPolicy.DEFAULT : fetchPolicy;
    }

    /** The default scrub rate. */
    public AgentConfig(final List<ImageConfig> images, final InetSocketAddress portal, final InetSocketAddress metrics,
                       final Path cacheDir, final long upstreamBytesPerSecond, final long downstreamBytesPerSecond,
                       final FetchPolicy fetchPolicy, final Path readTraceDir, final long cacheLimitBytes) {
        this(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy,
                readTraceDir, cacheLimitBytes, DEFAULT_SCRUB_BYTES_PER_SECOND);
    }

    /** No cache limit. */
    public AgentConfig(final List<ImageConfig> images, final InetSocketAddress portal, final InetSocketAddress metrics,
                       final Path cacheDir, final long upstreamBytesPerSecond, final long downstreamBytesPerSecond,
                       final FetchPolicy fetchPolicy, final Path readTraceDir) {
        this(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy,
                readTraceDir, 0);
    }

    /** One image, no caps, default fetch policy. */
    public static AgentConfig of(final ImageConfig image, final InetSocketAddress portal,
                                 final InetSocketAddress metrics, final Path cacheDir) {
        return new AgentConfig(List.of(image), portal, metrics, cacheDir, 0, 0, FetchPolicy.DEFAULT, null);
    }

    public AgentConfig withCaps(final long upstream, final long downstream) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstream, downstream, fetchPolicy, readTraceDir,
                cacheLimitBytes, scrubBytesPerSecond);
    }

    public AgentConfig withFetchPolicy(final FetchPolicy policy) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond,
                policy, readTraceDir, cacheLimitBytes, scrubBytesPerSecond);
    }

    public AgentConfig withReadTraceDir(final Path dir) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond,
                fetchPolicy, dir, cacheLimitBytes, scrubBytesPerSecond);
    }

    /** @param bytes most bytes the cache root may hold, 0 = no limit */
    public AgentConfig withCacheLimit(final long bytes) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond,
                fetchPolicy, readTraceDir, bytes, scrubBytesPerSecond);
    }

    /** @param bytesPerSecond how fast the background scrub re-verifies cached chunks, 0 = off */
    public AgentConfig withScrubRate(final long bytesPerSecond) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond,
                fetchPolicy, readTraceDir, cacheLimitBytes, bytesPerSecond);
    }

    /** The limit as the cache root enforces it: "no limit" is the largest one. */
    long effectiveCacheLimit() {
        return cacheLimitBytes == 0 ? Long.MAX_VALUE : cacheLimitBytes;
    }

    /** Where image {@code name}'s read trace goes, or null when tracing is off. */
    public Path readTraceFile(final String name) {
        return readTraceDir == null ? null : readTraceDir.resolve(name + ".csv");
    }
}
