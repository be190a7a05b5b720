package dev.virtman.manager;

import dev.virtman.manager.api.FailureReportReply;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.store.NotLeaderException;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.store.StoredState;
import dev.virtman.manager.tree.DistributionTree;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane: images, hosts, one distribution tree per image, boot profiles, and host
 * liveness. A facade over the domain services that do the work, all on one {@link ManagerState}
 * (one lock, one transaction per change; see there):
 * <pre>
 *   ImageCatalog     images: register (hash outside the lock), Glance versions, look up, remove
 *   HostRegistry     hosts: register, decommission, status
 *   Heartbeats       tree membership from heartbeats, joins committed in groups
 *   FailureDetector  liveness: silent hosts, children reporting their parent
 *   TreeService      re-planning trees (TreePlanner), parent lists
 *   BootProfiles     the recorded boot read order per image
 * </pre>
 * Methods return domain records ({@link ImageStatus}, {@link HostStatus}, {@link TreeSnapshot},
 * {@link BootProfile}); the REST layer maps them to its views. Heartbeat and failure-report
 * replies are the agents' protocol messages and are returned as such.
 */
public final class Manager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Manager.class);

    /** Shortest id prefix accepted in place of a full image id (32 bits: collisions are unlikely). */
    public static final int MIN_ID_PREFIX = 8;

    private final ManagerState state;
    private final ImageCatalog images;
    private final HostRegistry hosts;
    private final Heartbeats heartbeats;
    private final FailureDetector detector;
    private final TreeService trees;
    private final BootProfiles profiles;
    private final StateStore store;
    private final ManagerMetrics metrics;
    /** Whether this manager plans and fails hosts: always alone; the elected one of several on etcd. */
    private volatile boolean leading = true;
    private volatile Supplier<String> leaderHint = () -> null;

    public Manager(final ManagerConfig config, final StateStore store, final ManifestProvider manifests,
                   final MeterRegistry registry, final InstantSource clock) {
        this(config, store, manifests, registry, clock, System::nanoTime);
    }

    /** @param nanos monotonic clock the failure detector measures its own stalls with (tests) */
    Manager(final ManagerConfig config, final StateStore store, final ManifestProvider manifests,
            final MeterRegistry registry, final InstantSource clock, final LongSupplier nanos) {
        this.state = new ManagerState(config, store, clock);
        ManagerMetrics metrics = new ManagerMetrics(state, registry);
        this.trees = new TreeService(state, metrics);
        this.images = new ImageCatalog(state, manifests, metrics);
        this.detector = new FailureDetector(state, trees, metrics, nanos);
        this.hosts = new HostRegistry(state, trees, detector, metrics.registrationGroups::record);
        this.heartbeats = new Heartbeats(state, trees, detector, metrics, hosts::applyQueuedRegistrations);
        this.profiles = new BootProfiles(state, images);
        this.store = store;
        this.metrics = metrics;
        load(store.load(), metrics);
    }

    /**
     * Replaces the in-memory images, hosts, trees and profiles with the store's: a follower
     * catching up with the leader's writes, or a new leader before its first write. Hosts this
     * manager already knew keep their liveness; the others count as just seen. With
     * {@code grace}, every host counts as just seen: a new leader gives each host a full heartbeat
     * timeout before it may fail it, so a fail-over never fails a healthy host whose heartbeats
     * went to the old leader.
     */
    public void reload(final boolean grace) {
        StoredState stored = store.load();
        synchronized (state) {
            if (!grace && leading) {
                return; // elected meanwhile: the leader's memory is newer than this snapshot
            }
            long now = state.clock.millis();
            Map<String, ImageRecord> images = new LinkedHashMap<>();
            stored.images().forEach(i -> images.put(i.id(), i));
            Map<String, HostRecord> hosts = new LinkedHashMap<>();
            long nextSeq = 0;
            for (HostRecord h : stored.hosts()) {
                hosts.put(h.hostId(), h);
                Liveness live = state.liveness.get(h.hostId());
                if (live == null) {
                    state.liveness.put(h.hostId(), new Liveness(now));
                } else if (grace) {
                    live.seenAtLeast(now);
                }
                nextSeq = Math.max(nextSeq, h.seq() + 1);
            }
            state.liveness.keySet().retainAll(hosts.keySet());
            Map<String, java.util.Set<String>> membership = new HashMap<>();
            stored.trees().forEach((image, tree) -> tree.hosts().forEach(
                    host -> membership.computeIfAbsent(host, k -> new LinkedHashSet<>()).add(image)));
            images.keySet().stream().filter(id -> !state.images.containsKey(id)).forEach(metrics::addImage);
            state.images.keySet().stream().filter(id -> !images.containsKey(id)).forEach(metrics::removeImage);
            state.images = images;
            state.hosts = hosts;
            state.trees = new HashMap<>(stored.trees());
            state.profiles = new HashMap<>(stored.profiles());
            state.membership = membership;
            state.unplaced = new HashMap<>();
            state.nextSeq = Math.max(state.nextSeq, nextSeq);
            state.replyChanges.all();
            if (grace) {
                leading = true;
            }
        }
    }

    /**
     * Makes this manager the one that plans and fails hosts ({@code true}, after catching up with
     * the store and giving every host a grace period) or a follower that only answers.
     */
    public void lead(final boolean lead) {
        if (lead && !leading) {
            reload(true); // sets leading under the lock, so no follower re-read overwrites it
        } else if (!lead) {
            leading = false;
        }
    }

    public boolean leading() {
        return leading;
    }

    /** Where a follower sends clients: the leader's URL as last seen, or null. */
    public void leaderHint(final Supplier<String> hint) {
        this.leaderHint = hint;
    }

    /**
     * Heartbeats and failure reports are liveness, which only the leader judges: a follower
     * refuses them (503 naming the leader) so agents move to the leader instead of going silent
     * there.
     */
    private void requireLeading(final String what) {
        if (!leading) {
            throw new NotLeaderException(leaderHint.get());
        }
    }

    private void load(final StoredState stored, final ManagerMetrics metrics) {
        synchronized (state) {
            long now = state.clock.millis();
            stored.images().forEach(i -> state.images.put(i.id(), i));
            for (HostRecord h : stored.hosts()) {
                state.hosts.put(h.hostId(), h);
                state.liveness.put(h.hostId(), new Liveness(now));
                state.nextSeq = Math.max(state.nextSeq, h.seq() + 1);
            }
            state.trees.putAll(stored.trees());
            state.profiles.putAll(stored.profiles());
            for (Map.Entry<String, DistributionTree> e : state.trees.entrySet()) {
                for (String host : e.getValue().hosts()) {
                    state.membership.computeIfAbsent(host, k -> new LinkedHashSet<>()).add(e.getKey());
                }
            }
            state.images.keySet().forEach(metrics::addImage);
            LOG.info("loaded {} images, {} hosts, {} boot profiles", state.images.size(), state.hosts.size(),
                    state.profiles.size());
        }
    }

    public ManagerConfig config() {
        return state.config;
    }

    // ---------------------------------------------------------------- images

    /** Hashes the image (outside the lock: it may take a while) and registers it. */
    public ImageStatus registerImage(final String name, final String path) {
        return images.register(name, path);
    }

    /** The outcome of registering a Glance import: the image, and whether this call added it. */
    public record Registration(ImageStatus image, boolean created) { }

    /**
     * Registers a raw file imported and verified from Glance as the next version of its series
     * ({@link GlanceOrigin}). A no-op returning the existing image when the same Glance image
     * with the same data is already registered, or when identical content is (under any name).
     */
    public Registration registerGlanceImage(final String path, final GlanceOrigin origin) {
        return images.registerGlance(path, origin);
    }

    /** {@link #registerGlanceImage}'s no-op check, before anything is downloaded. */
    public Optional<ImageStatus> findGlanceImport(final String glanceImageId, final String osHashValue) {
        return images.findGlanceImport(glanceImageId, osHashValue);
    }

    public List<ImageStatus> images() {
        return images.images();
    }

    /** By id, name, or an id prefix of at least {@value #MIN_ID_PREFIX} hex digits. */
    public ImageStatus image(final String idOrName) {
        return images.image(idOrName);
    }

    public void removeImage(final String idOrName) {
        images.remove(idOrName);
    }

    /** The image's stored chunk manifest (its integrity root), for agents. */
    public byte[] manifest(final String ref) {
        return images.manifest(ref);
    }

    // ---------------------------------------------------------------- hosts

    /**
     * Registers a host, or updates the address and labels of a known one (an agent restart).
     * Either way it counts as a sign of life. Labels do not move a host already in a tree.
     *
     * @return true if the host is new
     */
    public boolean registerHost(final String hostId, final String address, final Labels labels) {
        return hosts.register(hostId, address, labels).created();
    }

    /** As {@link #registerHost}, also returning the host's status as of its registration. */
    public HostRegistered register(final String hostId, final String address, final Labels labels) {
        return hosts.register(hostId, address, labels);
    }

    /** Removes a host for good (decommission): it leaves every tree, its children are re-parented. */
    public void removeHost(final String hostId) {
        hosts.remove(hostId);
    }

    public List<HostStatus> hosts() {
        return hosts.hosts();
    }

    public HostStatus host(final String hostId) {
        return hosts.host(hostId);
    }

    /** A heartbeat: see {@link Heartbeats}. */
    public HeartbeatReply heartbeat(final String hostId, final HeartbeatRequest request) {
        requireLeading("heartbeats");
        return heartbeats.heartbeat(hostId, request);
    }

    /** Hosts whose heartbeat replies may have changed (the agents' streams push them). */
    public ReplyChanges replyChanges() {
        return state.replyChanges;
    }

    /**
     * Notes that a host's agent was heard (a ping on its stream): liveness without a report, so
     * the steady state costs no lock and no reply.
     */
    public void heard(final String hostId) {
        detector.arrived(hostId);
    }

    /** See {@link Heartbeats#currentReplies}: computed under one lock hold. */
    public Map<String, HeartbeatReply> currentReplies(final Map<String, HeartbeatRequest> reports) {
        synchronized (state) {
            return heartbeats.currentReplies(reports);
        }
    }

    /** A child cannot reach its parent: see {@link FailureDetector#report}. */
    public FailureReportReply reportFailure(final String reporter, final String failedHostId) {
        requireLeading("failure reports");
        return detector.report(reporter, failedHostId);
    }

    /** The failure detector runs this many times per heartbeat interval, bounding detection lag. */
    private static final int CHECKS_PER_INTERVAL = 4;
    private static final Duration MIN_CHECK_PERIOD = Duration.ofMillis(20);

    /** How often {@link #expireSilentHosts} must be called, from one thread. */
    public static Duration detectorPeriod(final Duration heartbeatInterval) {
        Duration period = heartbeatInterval.dividedBy(CHECKS_PER_INTERVAL);
        return period.compareTo(MIN_CHECK_PERIOD) < 0 ? MIN_CHECK_PERIOD : period;
    }

    /**
     * Fails every host silent for longer than the timeout. Called every {@link #detectorPeriod}
     * by one thread of its own (a stall of that thread is taken for a stall of the manager).
     */
    public int expireSilentHosts() {
        if (!leading) {
            return 0; // only the leader fails hosts; followers' liveness is partial
        }
        return detector.expireSilentHosts();
    }

    // ---------------------------------------------------------------- trees and profiles

    public TreeSnapshot tree(final String idOrName) {
        synchronized (state) {
            return trees.snapshot(images.require(idOrName));
        }
    }

    /**
     * Stores the boot read order of an image. The first writer wins unless a later profile is longer
     * (a fuller record of the boot) or {@code force}: an equal or shorter second PUT is a conflict,
     * so racing first boots cannot overwrite each other.
     *
     * @return true if created, false if replaced
     */
    public boolean putProfile(final String idOrName, final List<Integer> chunks, final String recordedBy,
                              final boolean force) {
        return profiles.put(idOrName, chunks, recordedBy, force);
    }

    public BootProfile profile(final String idOrName) {
        return profiles.get(idOrName);
    }

    /** The one lock every change holds, for tests that hold it while requests queue up. */
    Object lock() {
        return state;
    }

    @Override
    public void close() {
        state.close();
    }
}
