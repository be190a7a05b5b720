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
 */
public record AgentConfig(List<ImageConfig> images, InetSocketAddress portal, InetSocketAddress metrics,
                          Path cacheDir, long upstreamBytesPerSecond, long downstreamBytesPerSecond,
                          FetchPolicy fetchPolicy, Path readTraceDir) {

    public AgentConfig {
        images = List.copyOf(images);
        if (images.isEmpty()) {
            throw new IllegalArgumentException("an agent exports at least one image");
        }
        if (images.stream().map(ImageConfig::name).distinct().count() != images.size()) {
            throw new IllegalArgumentException("image names must be distinct");
        }
        if (upstreamBytesPerSecond < 0 || downstreamBytesPerSecond < 0) {
            throw new IllegalArgumentException("bandwidth caps must be >= 0");
        }
        fetchPolicy = fetchPolicy == null ? FetchPolicy.DEFAULT : fetchPolicy;
    }

    /** One image, no caps, default fetch policy. */
    public static AgentConfig of(final ImageConfig image, final InetSocketAddress portal,
                                 final InetSocketAddress metrics, final Path cacheDir) {
        return new AgentConfig(List.of(image), portal, metrics, cacheDir, 0, 0, FetchPolicy.DEFAULT, null);
    }

    public AgentConfig withCaps(final long upstream, final long downstream) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstream, downstream, fetchPolicy, readTraceDir);
    }

    public AgentConfig withFetchPolicy(final FetchPolicy policy) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond,
                policy, readTraceDir);
    }

    public AgentConfig withReadTraceDir(final Path dir) {
        return new AgentConfig(images, portal, metrics, cacheDir, upstreamBytesPerSecond, downstreamBytesPerSecond,
                fetchPolicy, dir);
    }

    /** Where image {@code name}'s read trace goes, or null when tracing is off. */
    public Path readTraceFile(final String name) {
        return readTraceDir == null ? null : readTraceDir.resolve(name + ".csv");
    }
}
