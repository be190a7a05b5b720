package dev.virtman.manager;

import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings of one manager process.
 *
 * @param listen            REST API address
 * @param stateDir          database, manifests, token
 * @param limits            tree shape bounds
 * @param heartbeatInterval how often agents heartbeat (told to them in every reply)
 * @param heartbeatTimeout  silence after which a host is failed and its children re-parented
 * @param sourcePortal      {@code ip:port} of the iSCSI portal exporting the source images
 * @param sourceLocality    rack/zone of the source, for parent preference at depth 1
 * @param chunkSize         manifest chunk size for newly registered images
 * @param glance            Glance to import from on demand ({@code POST /v1/images} with a
 *                          {@code glanceImageId}), or null when the manager has none
 * @param admission         image directories, host networks and size bounds client requests must keep to
 */
public record ManagerConfig(InetSocketAddress listen, StateDir stateDir, TreeLimits limits,
                            Duration heartbeatInterval, Duration heartbeatTimeout, String sourcePortal,
                            Locality sourceLocality, int chunkSize, GlanceSettings glance, Admission admission) {

    /** Agents heartbeat every 2 s: 50 requests/s for 100 hosts, negligible for the manager. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(2);
    /**
     * Three missed heartbeats: tolerates one lost or late reply plus a GC pause, yet re-parents
     * within about 6 s. Children usually report a dead parent sooner (docs/manager.md).
     */
    public static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(6);
    public static final int DEFAULT_PORT = 7070;
    public static final String DEFAULT_SOURCE_PORTAL = "127.0.0.1:3260";

    public ManagerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(sourcePortal, "sourcePortal");
        Objects.requireNonNull(sourceLocality, "sourceLocality");
        if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
            throw new IllegalArgumentException("heartbeat interval must be positive");
        }
        if (heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException("heartbeat timeout (" + heartbeatTimeout
                    + ") must exceed the heartbeat interval (" + heartbeatInterval + ")");
        }
        Addresses.requirePortal(sourcePortal);
        Objects.requireNonNull(admission, "admission");
        new ImageDirectories(stateDir, admission.imageDirs()); // refuses relative directories
    }

    /** Where image files may be: {@link Admission#imageDirs()} and the state directory's {@code images/}. */
    public ImageDirectories imageDirectories() {
        return new ImageDirectories(stateDir, admission.imageDirs());
    }

    public ManagerConfig withAdmission(final Admission rules) {
        return new ManagerConfig(listen, stateDir, limits, heartbeatInterval, heartbeatTimeout, sourcePortal,
                sourceLocality, chunkSize, glance, rules);
    }

    /** Adds image directories (see {@link ImageDirectories}) to those configured. */
    public ManagerConfig withImageDirs(final List<Path> dirs) {
        List<Path> all = new ArrayList<>(admission.imageDirs());
        all.addAll(dirs);
        return withAdmission(admission.withImageDirs(all));
    }

    /** Defaults on loopback with the given state directory. */
    public static ManagerConfig defaults(final StateDir stateDir) {
        return new ManagerConfig(new InetSocketAddress("127.0.0.1", DEFAULT_PORT), stateDir, TreeLimits.DEFAULT,
                DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_TIMEOUT, DEFAULT_SOURCE_PORTAL, Locality.UNKNOWN,
                ChunkManifest.DEFAULT_CHUNK_SIZE, null, Admission.DEFAULT);
    }

    public ManagerConfig withListen(final InetSocketAddress address) {
        return new ManagerConfig(address, stateDir, limits, heartbeatInterval, heartbeatTimeout, sourcePortal,
                sourceLocality, chunkSize, glance, admission);
    }

    public ManagerConfig withLimits(final TreeLimits newLimits) {
        return new ManagerConfig(listen, stateDir, newLimits, heartbeatInterval, heartbeatTimeout, sourcePortal,
                sourceLocality, chunkSize, glance, admission);
    }

    public ManagerConfig withHeartbeat(final Duration interval, final Duration timeout) {
        return new ManagerConfig(listen, stateDir, limits, interval, timeout, sourcePortal, sourceLocality, chunkSize, glance, admission);
    }

    public ManagerConfig withSource(final String portal, final Locality locality) {
        return new ManagerConfig(listen, stateDir, limits, heartbeatInterval, heartbeatTimeout, portal, locality,
                chunkSize, glance, admission);
    }

    public ManagerConfig withChunkSize(final int bytes) {
        return new ManagerConfig(listen, stateDir, limits, heartbeatInterval, heartbeatTimeout, sourcePortal,
                sourceLocality, bytes, glance, admission);
    }

    /** On-demand imports from {@code settings}' Glance; null disables them. */
    public ManagerConfig withGlance(final GlanceSettings settings) {
        return new ManagerConfig(listen, stateDir, limits, heartbeatInterval, heartbeatTimeout, sourcePortal,
                sourceLocality, chunkSize, settings, admission);
    }
}
