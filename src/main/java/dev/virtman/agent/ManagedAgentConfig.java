package dev.virtman.agent;

import dev.virtman.block.cache.FetchPolicy;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A managed agent: which manager, who this host is, and which images to serve; the manager
 * supplies manifests, parent lists and boot profiles.
 *
 * @param manager          base URL of the manager's REST API
 * @param token            the manager's bearer token
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
 */
public record ManagedAgentConfig(URI manager, String token, String hostId, List<String> images,
                                 InetSocketAddress portal, InetSocketAddress metrics, Path cacheDir,
                                 long upstreamBytesPerSecond, long downstreamBytesPerSecond, FetchPolicy fetchPolicy,
                                 Duration placementTimeout, Duration profileQuiet) {
    public static final Duration DEFAULT_PLACEMENT_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_PROFILE_QUIET = Duration.ofSeconds(15);

    public ManagedAgentConfig {
        images = List.copyOf(images);
        if (images.isEmpty()) {
            throw new IllegalArgumentException("a managed agent serves at least one image");
        }
        if (portal.getPort() == 0) {
            throw new IllegalArgumentException("a managed agent needs a fixed --portal port: the manager gives it to children");
        }
        fetchPolicy = fetchPolicy == null ? FetchPolicy.DEFAULT : fetchPolicy;
        placementTimeout = placementTimeout == null ? DEFAULT_PLACEMENT_TIMEOUT : placementTimeout;
        profileQuiet = profileQuiet == null ? DEFAULT_PROFILE_QUIET : profileQuiet;
    }

    /** {@code ip:port} of the portal, as the manager records it. */
    public String portalString() {
        return portal.getAddress().getHostAddress() + ":" + portal.getPort();
    }
}
