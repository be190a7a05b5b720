package dev.virtman.agent;

import dev.virtman.block.cache.FetchPolicy;
import dev.virtman.manager.api.Labels;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A managed agent: which manager, who this host is, and which images to serve; the manager
 * supplies manifests, parent lists and boot profiles.
 *
 * @param managers         base URLs of the manager's REST API: one, or several managers of one cluster
 *                         (the agent fails over between them, {@code --manager URL1,URL2})
 * @param token            bootstrap credential (the manager's enrolment token or admin token), used only to
 *                         enrol when {@code cacheDir} holds no host token yet; null once enrolled
 * @param hostId           this host's id in the distribution tree ({@code TargetNames.HOST_ID})
 * @param images           image names or ids registered with the manager
 * @param portal           iSCSI listen address; needs a concrete port, since the manager hands it to children
 * @param metrics          metrics endpoint address, or null
 * @param cacheDir         cache root
 * @param upstreamBytesPerSecond   upstream cap, 0 = none
 * @param downstreamBytesPerSecond downstream cap, 0 = none
 * @param fetchPolicy      per-chunk timeout and retries
 * @param placementTimeout how long to wait at start for the manager to place this host in every tree
 * @param profileQuiet     a boot being recorded is over when no new chunk was read for this long
 * @param cacheLimitBytes  most bytes the cache root may hold, 0 = no limit ({@link AgentConfig#cacheLimitBytes})
 * @param advertisedPortal the portal the manager hands to children and Cinder when they reach this host
 *                         through NAT or a port forward, or null for {@code portal}
 * @param labels           this host's rack and zone, sent at registration: the planner prefers parents
 *                         in the same rack, then zone ({@code Labels.NONE}: no preference)
 * @param scrubBytesPerSecond background re-verification rate of the caches, 0 = off ({@code --scrub-rate})
 * @param caFile           PEM CA certificates an {@code https://} manager must chain to ({@code --ca-file}), or
 *                         null for {@code $VIRTMAN_CA_FILE}, else the JVM's trust store
 * @param admitKnownOnly   image exports admit only the initiators the manager names and this agent's own VMs
 *                         ({@link ExportAdmission}); {@code virtman agent} sets it unless
 *                         {@code --admit-any-initiator}. Off for embedders that read the exports with
 *                         initiators of their own (the convenience constructors)
 */
public record ManagedAgentConfig(List<URI> managers, String token, String hostId, List<String> images,
                                 InetSocketAddress portal, InetSocketAddress metrics, Path cacheDir,
                                 long upstreamBytesPerSecond, long downstreamBytesPerSecond, FetchPolicy fetchPolicy,
                                 Duration placementTimeout, Duration profileQuiet, long cacheLimitBytes,
                                 InetSocketAddress advertisedPortal, Labels labels, long scrubBytesPerSecond,
                                 Path caFile, boolean admitKnownOnly) {
    public static final Duration DEFAULT_PLACEMENT_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_PROFILE_QUIET = Duration.ofSeconds(15);

    public ManagedAgentConfig {
        managers = List.copyOf(managers);
        if (managers.isEmpty()) {
            throw new IllegalArgumentException("a managed agent needs at least one manager URL");
        }
        // No images is allowed: a compute node's agent may serve only volumes, whose images it
        // joins on demand.
        images = List.copyOf(images);
        if (portal.getPort() == 0) {
            throw new IllegalArgumentException("a managed agent needs a fixed --portal port: the manager gives it to children");
        }
        fetchPolicy = fetchPolicy == null ? FetchPolicy.DEFAULT : fetchPolicy;
        placementTimeout = placementTimeout == null ? DEFAULT_PLACEMENT_TIMEOUT : placementTimeout;
        profileQuiet = profileQuiet == null ? DEFAULT_PROFILE_QUIET : profileQuiet;
        if (cacheLimitBytes < 0) {
            throw new IllegalArgumentException("the cache limit must be >= 0");
        }
        if (advertisedPortal != null && (advertisedPortal.isUnresolved() || advertisedPortal.getPort() == 0
                || advertisedPortal.getAddress().isAnyLocalAddress())) {
            throw new IllegalArgumentException("--advertise needs a concrete address and port: " + advertisedPortal);
        }
        labels = labels == null ? Labels.NONE : labels;
        if (scrubBytesPerSecond < 0) {
            throw new IllegalArgumentException("the scrub rate must be >= 0");
        }
    }

    /** The default scrub rate ({@link AgentConfig#DEFAULT_SCRUB_BYTES_PER_SECOND}). */
    public ManagedAgentConfig(final URI manager, final String token, final String hostId, final List<String> images,
                              final InetSocketAddress portal, final InetSocketAddress metrics, final Path cacheDir,
                              final long upstreamBytesPerSecond, final long downstreamBytesPerSecond,
                              final FetchPolicy fetchPolicy, final Duration placementTimeout,
                              final Duration profileQuiet, final long cacheLimitBytes,
                              final InetSocketAddress advertisedPortal, final Labels labels) {
        this(List.of(manager), token, hostId, images, portal, metrics, cacheDir, upstreamBytesPerSecond,
                downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet, cacheLimitBytes, advertisedPortal,
                labels, AgentConfig.DEFAULT_SCRUB_BYTES_PER_SECOND, null, false);
    }

    /** No rack or zone. */
    public ManagedAgentConfig(final URI manager, final String token, final String hostId, final List<String> images,
                              final InetSocketAddress portal, final InetSocketAddress metrics, final Path cacheDir,
                              final long upstreamBytesPerSecond, final long downstreamBytesPerSecond,
                              final FetchPolicy fetchPolicy, final Duration placementTimeout,
                              final Duration profileQuiet, final long cacheLimitBytes,
                              final InetSocketAddress advertisedPortal) {
        this(manager, token, hostId, images, portal, metrics, cacheDir, upstreamBytesPerSecond,
                downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet, cacheLimitBytes, advertisedPortal,
                Labels.NONE);
    }

    public ManagedAgentConfig(final URI manager, final String token, final String hostId, final List<String> images,
                              final InetSocketAddress portal, final InetSocketAddress metrics, final Path cacheDir,
                              final long upstreamBytesPerSecond, final long downstreamBytesPerSecond,
                              final FetchPolicy fetchPolicy, final Duration placementTimeout,
                              final Duration profileQuiet, final long cacheLimitBytes) {
        this(manager, token, hostId, images, portal, metrics, cacheDir, upstreamBytesPerSecond,
                downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet, cacheLimitBytes, null);
    }

    /** No cache limit. */
    public ManagedAgentConfig(final URI manager, final String token, final String hostId, final List<String> images,
                              final InetSocketAddress portal, final InetSocketAddress metrics, final Path cacheDir,
                              final long upstreamBytesPerSecond, final long downstreamBytesPerSecond,
                              final FetchPolicy fetchPolicy, final Duration placementTimeout,
                              final Duration profileQuiet) {
        this(manager, token, hostId, images, portal, metrics, cacheDir, upstreamBytesPerSecond,
                downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet, 0);
    }

    /**
     * Where the agent of {@code hostId} keeps its host credential in {@code cacheDir}. Emptying a
     * cache for a cold start must keep it: the manager still lists the host as enrolled.
     */
    public static Path credentialFile(final Path cacheDir, final String hostId) {
        return HostEnrolment.tokenFile(cacheDir, hostId);
    }

    public ManagedAgentConfig withCacheLimit(final long bytes) {
        return new ManagedAgentConfig(managers, token, hostId, images, portal, metrics, cacheDir,
                upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet, bytes,
                advertisedPortal, labels, scrubBytesPerSecond, caFile, admitKnownOnly);
    }

    public ManagedAgentConfig withAdvertisedPortal(final InetSocketAddress address) {
        return new ManagedAgentConfig(managers, token, hostId, images, portal, metrics, cacheDir,
                upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet,
                cacheLimitBytes, address, labels, scrubBytesPerSecond, caFile, admitKnownOnly);
    }

    public ManagedAgentConfig withLabels(final Labels newLabels) {
        return new ManagedAgentConfig(managers, token, hostId, images, portal, metrics, cacheDir,
                upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet,
                cacheLimitBytes, advertisedPortal, newLabels, scrubBytesPerSecond, caFile, admitKnownOnly);
    }

    /** @param bytesPerSecond background scrub rate, 0 = off */
    public ManagedAgentConfig withScrubRate(final long bytesPerSecond) {
        return new ManagedAgentConfig(managers, token, hostId, images, portal, metrics, cacheDir,
                upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet,
                cacheLimitBytes, advertisedPortal, labels, bytesPerSecond, caFile, admitKnownOnly);
    }

    /**
     * @param urls    every manager of the cluster, in the order the agent tries them
     * @param caPem   PEM CA file for {@code https://} managers, or null
     */
    public ManagedAgentConfig withManagers(final List<URI> urls, final Path caPem) {
        return new ManagedAgentConfig(urls, token, hostId, images, portal, metrics, cacheDir,
                upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet,
                cacheLimitBytes, advertisedPortal, labels, scrubBytesPerSecond, caPem, admitKnownOnly);
    }

    /** @param known whether image exports admit only the initiators the manager names and this agent's VMs */
    public ManagedAgentConfig withAdmitKnownOnly(final boolean known) {
        return new ManagedAgentConfig(managers, token, hostId, images, portal, metrics, cacheDir,
                upstreamBytesPerSecond, downstreamBytesPerSecond, fetchPolicy, placementTimeout, profileQuiet,
                cacheLimitBytes, advertisedPortal, labels, scrubBytesPerSecond, caFile, known);
    }

    /** {@code ip:port} of the portal, as the manager records it (the advertised one when set). */
    public String portalString() {
        InetSocketAddress p = advertisedPortal != null ? advertisedPortal : portal;
        return p.getAddress().getHostAddress() + ":" + p.getPort();
    }
}
