package dev.virtman.manager;

import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.FailureReportReply;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.store.StateChange;
import dev.virtman.manager.store.StateStore;
import dev.virtman.manager.store.StoredState;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.PlanResult;
import dev.virtman.manager.tree.TreeChange;
import dev.virtman.manager.tree.TreeMember;
import dev.virtman.manager.tree.TreePlanner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane: images, hosts, one distribution tree per image, boot profiles, and host
 * liveness. The REST layer is a thin shell around it.
 *
 * <p><b>Atomicity.</b> Every mutating operation runs under one lock as a {@link Transaction}: it
 * validates, updates the in-memory state while recording the same writes in a
 * {@link StateChange}, and commits that change to the {@link StateStore} as one database
 * transaction. If validation or the commit fails, the in-memory state is restored from a copy
 * taken at the start, so a rejected request leaves nothing half-applied, in memory or on disk.
 *
 * <p><b>Liveness</b> (last heartbeat, suspicion) is memory-only. After a restart every known host
 * gets a full timeout of grace, so agents mid-boot carry on with the trees they were given.
 */
public final class Manager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Manager.class);

    private static final Pattern IMAGE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Shortest id prefix accepted in place of a full image id (32 bits: collisions are unlikely). */
    public static final int MIN_ID_PREFIX = 8;
    /** Versions a Glance series name must leave room for in {@link #IMAGE_NAME}'s length. */
    private static final int MAX_VERSION = 99_999;
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._-]{0,64}");
    /** A heartbeat older than this many intervals counts as missed when a child reports its parent. */
    private static final double STALE_INTERVALS = 2;

    private final ManagerConfig config;
    private final StateStore store;
    private final ManifestProvider manifests;
    private final ImageDirectories imageDirs;
    private final TreePlanner planner;
    private final InstantSource clock;
    /** Children's reports of silent parents; guarded by "this", memory-only like liveness. */
    private final SuspicionTracker suspicions;

    // In-memory state, guarded by "this". Maps are replaced or copied, never shared mutably
    // with a snapshot, so Snapshot.restore() can roll back a failed transaction.
    private Map<String, ImageRecord> images = new LinkedHashMap<>();
    private Map<String, HostRecord> hosts = new LinkedHashMap<>();
    private Map<String, DistributionTree> trees = new HashMap<>();
    private Map<String, List<String>> unplaced = new HashMap<>();
    private Map<String, BootProfile> profiles = new HashMap<>();
    /** host -> images it asked to serve in its last heartbeat. */
    private Map<String, Set<String>> membership = new HashMap<>();
    private long nextSeq;

    /** Memory-only liveness per host, not rolled back (it describes the outside world). */
    private final Map<String, Liveness> liveness = new HashMap<>();
    /**
     * When each host's latest heartbeat arrived, noted before the request waits for this
     * manager's lock. Joins re-plan and commit under the lock (in groups, see {@link #heartbeat},
     * but on a starved machine still for seconds when 64 agents join at once), so a placed host's
     * heartbeat can wait while the failure detector gets the lock first and sees only the last
     * heartbeat that got through: a 1,000-VM boot storm failed live hosts exactly during such
     * waves, when each join still committed alone. Arrival is the evidence of life.
     * Folded into {@link #liveness} (and emptied) by each detector pass, so ids that are not
     * registered hosts do not pile up.
     */
    private final ConcurrentHashMap<String, Long> heardAt = new ConcurrentHashMap<>();
    /** Heartbeats waiting for the lock, applied as one group by the first to get it. */
    private final ConcurrentLinkedQueue<QueuedHeartbeat> queuedHeartbeats = new ConcurrentLinkedQueue<>();
    /** Set while one heartbeat thread applies the queue (see {@link #heartbeat}). */
    private final AtomicBoolean combining = new AtomicBoolean();

    private final Counter reparentEvents;
    private final Counter heartbeats;
    private final DistributionSummary joinGroups;
    private final MeterRegistry metrics;
    private final Map<String, Gauge> depthGauges = new HashMap<>();

    /** What the manager knows about a host's recent activity. */
    private static final class Liveness {
        long lastSeenMillis;
        boolean heardSinceStart;
        final Map<String, Long> chunksHeld = new HashMap<>();

        Liveness(final long now) {
            this.lastSeenMillis = now;
        }
    }

    public Manager(final ManagerConfig config, final StateStore store, final ManifestProvider manifests,
                   final MeterRegistry metrics, final InstantSource clock) {
        this.config = config;
        this.store = store;
        this.manifests = manifests;
        this.imageDirs = config.imageDirectories();
        this.planner = new TreePlanner(config.limits(), config.sourceLocality());
        this.clock = clock;
        this.suspicions = new SuspicionTracker(config.heartbeatTimeout().toMillis(),
                (long) (STALE_INTERVALS * config.heartbeatInterval().toMillis()));
        this.metrics = metrics;
        this.reparentEvents = Counter.builder("virtman.reparent.events")
                .description("hosts moved to a new parent after a failure").register(metrics);
        this.heartbeats = Counter.builder("virtman.heartbeats").description("heartbeats received").register(metrics);
        this.joinGroups = DistributionSummary.builder("virtman.heartbeat.join.group")
                .description("heartbeats whose tree membership changes were planned and committed together")
                .register(metrics);
        Gauge.builder("virtman.hosts.alive", this, m -> m.countHosts(false)).register(metrics);
        Gauge.builder("virtman.hosts.failed", this, m -> m.countHosts(true)).register(metrics);
        Gauge.builder("virtman.tree.depth.max", this, Manager::maxTreeDepth)
                .description("deepest tree level over all images").register(metrics);
        load(store.load());
    }

    private synchronized void load(final StoredState state) {
        long now = clock.millis();
        state.images().forEach(i -> images.put(i.id(), i));
        for (HostRecord h : state.hosts()) {
            hosts.put(h.hostId(), h);
            liveness.put(h.hostId(), new Liveness(now));
            nextSeq = Math.max(nextSeq, h.seq() + 1);
        }
        trees.putAll(state.trees());
        profiles.putAll(state.profiles());
        for (Map.Entry<String, DistributionTree> e : trees.entrySet()) {
            for (String host : e.getValue().hosts()) {
                membership.computeIfAbsent(host, k -> new LinkedHashSet<>()).add(e.getKey());
            }
        }
        images.keySet().forEach(this::registerDepthGauge);
        LOG.info("loaded {} images, {} hosts, {} boot profiles", images.size(), hosts.size(), profiles.size());
    }

    public ManagerConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- images

    /** Hashes the image (outside the lock: it may take a while) and registers it. */
    public ImageView registerImage(final String name, final String path) {
        if (name == null || !IMAGE_NAME.matcher(name).matches()) {
            throw ManagerException.invalid("image name must match " + IMAGE_NAME.pattern() + ", got "
                    + InputRules.quoted(name));
        }
        Path file = requireImageFile(path);
        synchronized (this) {
            requireNameFree(name);
        }
        ManifestSummary manifest = buildManifest(file);
        synchronized (this) {
            ImageRecord image = new ImageRecord(ImageRecord.idFor(manifest), name, file.toString(), manifest,
                    now());
            return transact(tx -> {
                requireNameFree(name);
                ImageRecord same = images.get(image.id());
                if (same != null) {
                    throw ManagerException.conflict("identical content is already registered as image '"
                            + same.name() + "' (id " + same.id() + ")");
                }
                return add(image, tx);
            });
        }
    }

    /** The outcome of registering a Glance import: the image, and whether this call added it. */
    public record Registration(ImageView image, boolean created) { }

    /**
     * Registers a raw file imported and verified from Glance as the next version of its series
     * ({@link GlanceOrigin}). A no-op returning the existing image when the same Glance image
     * with the same data is already registered, or when identical content is (under any name).
     */
    public Registration registerGlanceImage(final String path, final GlanceOrigin origin) {
        if (origin == null || origin.imageId() == null || origin.glanceUrl() == null || origin.diskFormat() == null
                || (origin.osHashValue() == null && origin.checksum() == null)) {
            throw ManagerException.invalid("glance origin needs glanceUrl, imageId, diskFormat and a hash");
        }
        String series = origin.series();
        if (series == null || !IMAGE_NAME.matcher(GlanceOrigin.versionName(series, MAX_VERSION)).matches()) {
            throw ManagerException.invalid("series name must match " + IMAGE_NAME.pattern()
                    + " with room for a version suffix, got " + InputRules.quoted(series));
        }
        Path file = requireImageFile(path);
        synchronized (this) {
            ImageRecord known = glanceImport(origin.imageId(), origin.osHashValue());
            if (known != null) {
                return new Registration(view(known), false);
            }
        }
        ManifestSummary manifest = buildManifest(file);
        synchronized (this) {
            return transact(tx -> {
                ImageRecord known = glanceImport(origin.imageId(), origin.osHashValue());
                if (known == null) {
                    known = images.get(ImageRecord.idFor(manifest));
                }
                if (known != null) {
                    return new Registration(view(known), false);
                }
                int version = 1 + images.values().stream()
                        .filter(i -> i.glance() != null && i.glance().series().equals(series))
                        .mapToInt(i -> i.glance().version()).max().orElse(0);
                String name = GlanceOrigin.versionName(series, version);
                requireNameFree(name);
                ImageRecord image = new ImageRecord(ImageRecord.idFor(manifest), name, file.toString(), manifest,
                        now(), origin.withVersion(series, version));
                return new Registration(add(image, tx), true);
            });
        }
    }

    /** The image imported from this Glance image with this data, if any. */
    private ImageRecord glanceImport(final String glanceImageId, final String osHashValue) {
        for (ImageRecord i : images.values()) {
            if (i.glance() != null && i.glance().sameData(glanceImageId, osHashValue)) {
                return i;
            }
        }
        return null;
    }

    /** {@link #registerGlanceImage}'s no-op check, before anything is downloaded. */
    public synchronized Optional<ImageView> findGlanceImport(final String glanceImageId, final String osHashValue) {
        return Optional.ofNullable(glanceImport(glanceImageId, osHashValue)).map(this::view);
    }

    private ImageView add(final ImageRecord image, final Transaction tx) {
        images = copy(images);
        images.put(image.id(), image);
        trees = copy(trees);
        trees.put(image.id(), DistributionTree.empty());
        tx.change.putImage(image);
        tx.afterCommit(() -> {
            registerDepthGauge(image.id());
            LOG.info("registered image {} ({}): {} bytes, {} chunks of {}{}", image.id(), image.name(),
                    image.manifest().sizeBytes(), image.manifest().chunkCount(), image.manifest().chunkSize(),
                    image.glance() == null ? "" : ", from Glance image " + image.glance().imageId() + " version "
                            + image.glance().version());
        });
        return view(image);
    }

    /** The real path of a client-named image file under an image directory ({@link ImageDirectories}). */
    private Path requireImageFile(final String path) {
        return imageDirs.requireImageFile(path);
    }

    private ManifestSummary buildManifest(final Path file) {
        ManifestSummary manifest;
        try {
            manifest = manifests.build(file, config.stateDir().manifests());
        } catch (IOException e) {
            throw ManagerException.invalid("cannot read image " + file + ": " + e.getMessage());
        }
        if (manifest.sizeBytes() == 0) {
            throw ManagerException.invalid("image is empty: " + file);
        }
        return manifest;
    }

    private void requireNameFree(final String name) {
        for (ImageRecord i : images.values()) {
            if (i.name().equals(name)) {
                throw ManagerException.conflict("an image named '" + name + "' already exists (id " + i.id() + ")");
            }
        }
    }

    public synchronized List<ImageView> images() {
        return images.values().stream().map(this::view).toList();
    }

    /** By id or by name. */
    public synchronized ImageView image(final String idOrName) {
        return view(requireImage(idOrName));
    }

    public void removeImage(final String idOrName) {
        synchronized (this) {
            transact(tx -> {
                ImageRecord image = requireImage(idOrName);
                images = copy(images);
                images.remove(image.id());
                trees = copy(trees);
                trees.remove(image.id());
                unplaced = copy(unplaced);
                unplaced.remove(image.id());
                profiles = copy(profiles);
                profiles.remove(image.id());
                Map<String, Set<String>> members = new HashMap<>();
                membership.forEach((host, set) -> {
                    Set<String> rest = new LinkedHashSet<>(set);
                    rest.remove(image.id());
                    members.put(host, rest);
                });
                membership = members;
                tx.change.deleteImage(image.id());
                tx.afterCommit(() -> {
                    Gauge gauge = depthGauges.remove(image.id());
                    if (gauge != null) {
                        metrics.remove(gauge);
                    }
                    deleteImportedFile(image);
                    try {
                        manifests.delete(image.manifest().manifestRef());
                    } catch (IOException e) {
                        LOG.warn("image {} removed, but its manifest {} was not deleted: {}", image.id(),
                                image.manifest().manifestRef(), e.getMessage());
                    }
                    LOG.info("removed image {} ({})", image.id(), image.name());
                });
                return null;
            });
        }
    }

    /** An image file the manager downloaded itself (into its images directory) goes with its image. */
    private void deleteImportedFile(final ImageRecord image) {
        Path file = Path.of(image.path());
        if (image.glance() != null && file.getParent() != null
                && file.getParent().equals(config.stateDir().images())) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.warn("image {} removed, but its file {} was not deleted: {}", image.id(), file, e.getMessage());
            }
        }
    }

    /** By full id, name, or an id prefix of at least {@value #MIN_ID_PREFIX} hex digits that matches one image. */
    private ImageRecord requireImage(final String ref) {
        ImageRecord image = images.get(ref);
        if (image != null) {
            return image;
        }
        for (ImageRecord i : images.values()) {
            if (i.name().equals(ref)) {
                return i;
            }
        }
        if (ref.length() >= MIN_ID_PREFIX) {
            List<ImageRecord> matches = images.values().stream().filter(i -> i.id().startsWith(ref)).toList();
            if (matches.size() == 1) {
                return matches.getFirst();
            }
            if (matches.size() > 1) {
                throw ManagerException.invalid("image id prefix '" + ref + "' is ambiguous (" + matches.size() + " images)");
            }
        }
        throw ManagerException.notFound("no image with id or name " + InputRules.quoted(ref));
    }

    /** The image's stored chunk manifest (its integrity root), for agents. */
    public byte[] manifest(final String ref) {
        ImageRecord image;
        synchronized (this) {
            image = requireImage(ref);
        }
        try {
            return manifests.read(image.manifest().manifestRef());
        } catch (IOException e) {
            throw new ManagerException(ManagerException.Reason.INTERNAL, "manifest of image " + image.id()
                    + " is unreadable: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- hosts

    /**
     * Registers a host, or updates the address and labels of a known one (an agent restart).
     * Either way it counts as a sign of life. Labels do not move a host already in a tree.
     *
     * @return true if the host is new
     */
    public synchronized boolean registerHost(final String hostId, final String address, final Labels labels) {
        requireHostId(hostId, "hostId");
        config.admission().hostNetworks().requireHostAddress(address);
        Labels l = labels == null ? Labels.NONE : labels;
        requireLabel("labels.rack", l.rack());
        requireLabel("labels.zone", l.zone());
        Locality locality = new Locality(l.rack(), l.zone());
        return transact(tx -> {
            // An agent whose registration was lost (OS crash) gets 404 on its next heartbeat and
            // registers again, so registrations need not wait for a disk sync.
            tx.change.rebuildable();
            HostRecord old = hosts.get(hostId);
            HostRecord host = old == null
                    ? new HostRecord(hostId, address, locality, false, now(), nextSeq++)
                    : new HostRecord(hostId, address, locality, false, old.registeredAt(), old.seq());
            hosts = copy(hosts);
            hosts.put(hostId, host);
            tx.change.putHost(host);
            if (old != null && old.failed()) {
                replanFor(hostId, tx);
            }
            tx.afterCommit(() -> {
                markSeen(hostId);
                LOG.info("{} host {} at {} (rack '{}', zone '{}')", old == null ? "registered" : "re-registered",
                        hostId, address, locality.rack(), locality.zone());
            });
            return old == null;
        });
    }

    /** Removes a host for good (decommission): it leaves every tree, its children are re-parented. */
    public synchronized void removeHost(final String hostId) {
        transact(tx -> {
            requireHost(hostId);
            Set<String> served = membership.getOrDefault(hostId, Set.of());
            hosts = copy(hosts);
            hosts.remove(hostId);
            membership = copy(membership);
            membership.remove(hostId);
            for (String image : served) {
                replan(image, tx);
            }
            tx.change.deleteHost(hostId);
            tx.afterCommit(() -> {
                liveness.remove(hostId);
                LOG.info("removed host {}", hostId);
            });
            return null;
        });
    }

    public synchronized List<HostView> hosts() {
        return hosts.values().stream().map(this::view).toList();
    }

    public synchronized HostView host(final String hostId) {
        return view(requireHost(hostId));
    }

    /**
     * A heartbeat: marks the host alive, makes its tree memberships match the images it lists,
     * and replies with its parent list per image. Changes trees only when membership changed or
     * the host comes back from failure, so the steady state costs no disk write.
     *
     * <p><b>Joins commit in groups.</b> A heartbeat is queued, and one heartbeat thread at a time
     * takes this manager's lock and applies every heartbeat queued by then: each one's checks and
     * liveness in arrival order, then all their membership changes in one transaction, with one
     * re-plan per affected image and one commit, then every member's reply from the committed
     * state. The other threads only wait for their replies. A wave of agents joining at once so
     * costs a few plans, commits and lock hand-offs instead of one of each per agent. No joiner
     * is answered before the commit that records it, a rejected heartbeat (unknown host, bad
     * body) gets its own error, and a failed commit fails only the heartbeats that needed it.
     */
    public HeartbeatReply heartbeat(final String hostId, final HeartbeatRequest request) {
        if (hostId != null && TargetNames.HOST_ID.matcher(hostId).matches()) {
            heardAt.merge(hostId, clock.millis(), Math::max);
        }
        QueuedHeartbeat mine = new QueuedHeartbeat(hostId, request);
        queuedHeartbeats.add(mine);
        // Flat combining: one thread at a time drains the queue under the lock; the others wait
        // for their replies without taking the lock. A combiner re-checks the queue after letting
        // go, so a heartbeat queued while it was draining is never left behind.
        if (Thread.holdsLock(this)) {
            applyQueuedHeartbeats(); // a caller holding the lock must not wait for another combiner
        }
        while (!queuedHeartbeats.isEmpty() && combining.compareAndSet(false, true)) {
            try {
                synchronized (this) {
                    applyQueuedHeartbeats();
                }
            } finally {
                combining.set(false);
            }
        }
        try {
            return mine.reply.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** A heartbeat waiting to be applied, and its reply once the group it was in is committed. */
    private static final class QueuedHeartbeat {
        final String hostId;
        final HeartbeatRequest request;
        final CompletableFuture<HeartbeatReply> reply = new CompletableFuture<>();
        /** Written and read under the lock. */
        RuntimeException rejection;

        QueuedHeartbeat(final String hostId, final HeartbeatRequest request) {
            this.hostId = hostId;
            this.request = request;
        }
    }

    /** Applies every queued heartbeat as one group (see {@link #heartbeat}). Lock held. */
    private void applyQueuedHeartbeats() {
        List<QueuedHeartbeat> batch = new ArrayList<>();
        for (QueuedHeartbeat q = queuedHeartbeats.poll(); q != null; q = queuedHeartbeats.poll()) {
            batch.add(q);
        }
        List<QueuedHeartbeat> joining = new ArrayList<>();
        try {
            for (QueuedHeartbeat q : batch) {
                try {
                    if (noteHeartbeat(q.hostId, q.request)) {
                        joining.add(q);
                    }
                } catch (RuntimeException e) {
                    q.rejection = e;
                }
            }
            if (!joining.isEmpty()) {
                commitMemberships(joining);
            }
        } catch (RuntimeException e) {
            joining.forEach(q -> q.rejection = e);
        } finally {
            // After the commit, so no joiner learns its parents before they are durable.
            batch.forEach(this::answer);
        }
    }

    private void answer(final QueuedHeartbeat q) {
        if (q.rejection != null) {
            q.reply.completeExceptionally(q.rejection);
            return;
        }
        try {
            Map<String, HeartbeatReply.Placement> placements = new TreeMap<>();
            for (String image : reported(q.request).keySet()) {
                placements.put(image, placement(q.hostId, image));
            }
            q.reply.complete(new HeartbeatReply(q.hostId, config.heartbeatInterval().toMillis(), placements));
        } catch (RuntimeException e) {
            q.reply.completeExceptionally(e);
        }
    }

    /**
     * Checks a heartbeat and records what lives only in memory (liveness, chunks held).
     *
     * @return whether its tree memberships must change (a join, a leave, or a failed host back)
     */
    private boolean noteHeartbeat(final String hostId, final HeartbeatRequest request) {
        HostRecord host = requireHost(hostId);
        if (request.hostId() != null && !request.hostId().equals(hostId)) {
            throw ManagerException.invalid("hostId in body ('" + request.hostId() + "') does not match the path ('"
                    + hostId + "')");
        }
        Map<String, HeartbeatRequest.ImageReport> reported = reported(request);
        for (Map.Entry<String, HeartbeatRequest.ImageReport> e : reported.entrySet()) {
            if (e.getValue() == null || e.getValue().chunksPresent() < 0) {
                throw ManagerException.invalid("images." + e.getKey() + ".chunksPresent must be >= 0");
            }
        }
        heartbeats.increment();
        Liveness live = markSeen(hostId);
        reported.forEach((image, report) -> live.chunksHeld.put(image, report.chunksPresent()));
        return host.failed() || !membership.getOrDefault(hostId, Set.of()).equals(wantedImages(reported));
    }

    /** One transaction for the membership changes of a group of heartbeats, one re-plan per image. */
    private void commitMemberships(final List<QueuedHeartbeat> joining) {
        transact(tx -> {
            tx.change.rebuildable();
            Set<String> affected = new LinkedHashSet<>();
            membership = copy(membership);
            for (QueuedHeartbeat q : joining) {
                String hostId = q.hostId;
                HostRecord host = hosts.get(hostId);
                Set<String> wanted = wantedImages(reported(q.request));
                Set<String> before = membership.getOrDefault(hostId, Set.of());
                // An earlier heartbeat of the same host in this group may have made the change.
                if (!host.failed() && before.equals(wanted)) {
                    continue;
                }
                affected.addAll(before);
                affected.addAll(wanted);
                membership.put(hostId, wanted);
                if (host.failed()) {
                    HostRecord revived = host.withFailed(false);
                    hosts = copy(hosts);
                    hosts.put(hostId, revived);
                    tx.change.putHost(revived);
                    tx.afterCommit(() -> LOG.info("host {} is back", hostId));
                }
            }
            for (String image : affected) {
                replan(image, tx);
            }
            tx.afterCommit(() -> joinGroups.record(joining.size()));
            return null;
        });
    }

    private static Map<String, HeartbeatRequest.ImageReport> reported(final HeartbeatRequest request) {
        return request.images() == null ? Map.of() : request.images();
    }

    /** The reported images this manager knows; a host serves only those. */
    private Set<String> wantedImages(final Map<String, HeartbeatRequest.ImageReport> reported) {
        Set<String> wanted = new LinkedHashSet<>();
        for (String image : reported.keySet()) {
            if (images.containsKey(image)) {
                wanted.add(image);
            }
        }
        return wanted;
    }

    private HeartbeatReply.Placement placement(final String hostId, final String imageId) {
        DistributionTree tree = trees.get(imageId);
        if (tree == null) {
            return new HeartbeatReply.Placement("unknown-image", 0, List.of(), false);
        }
        boolean profile = profiles.containsKey(imageId);
        if (!tree.contains(hostId)) {
            return new HeartbeatReply.Placement("unplaced", 0, List.of(), profile);
        }
        return new HeartbeatReply.Placement("placed", tree.depthOf(hostId), parentList(hostId, imageId, tree), profile);
    }

    private List<Portal> parentList(final String hostId, final String imageId, final DistributionTree tree) {
        List<Portal> parents = new ArrayList<>();
        for (String ancestor : tree.ancestorsOf(hostId)) {
            if (DistributionTree.SOURCE.equals(ancestor)) {
                parents.add(new Portal(null, config.sourcePortal(), TargetNames.sourceIqn(imageId)));
            } else {
                parents.add(new Portal(ancestor, hosts.get(ancestor).address(), TargetNames.agentIqn(ancestor, imageId)));
            }
        }
        return parents;
    }

    /**
     * A child cannot reach its parent. Fails the parent at once if its heartbeat is stale too, or
     * if another child already complained; otherwise marks it suspect (a lone report may be the
     * child's own network trouble, and moving a healthy parent's whole subtree is costly). See
     * {@link SuspicionTracker}. A report from a host that does not have the suspect among its
     * ancestors in any tree is answered "ignored": only children can tell that a parent is silent.
     */
    public synchronized FailureReportReply reportFailure(final String reporter, final String failedHostId) {
        requireHostId(reporter, "reporter");
        requireHostId(failedHostId, "failedHostId");
        if (reporter.equals(failedHostId)) {
            throw ManagerException.invalid("a host cannot report itself failed");
        }
        requireHost(reporter);
        HostRecord suspect = requireHost(failedHostId);
        markSeen(reporter);
        if (suspect.failed()) {
            return new FailureReportReply(failedHostId, "failed");
        }
        if (trees.values().stream().noneMatch(t -> t.contains(reporter) && t.ancestorsOf(reporter).contains(failedHostId))) {
            LOG.info("report by {} about {} ignored: not its child in any tree", reporter, failedHostId);
            return new FailureReportReply(failedHostId, "ignored");
        }
        long now = clock.millis();
        Liveness live = liveness.computeIfAbsent(failedHostId, k -> new Liveness(now));
        foldArrivals();
        if (suspicions.report(failedHostId, reporter, now, live.lastSeenMillis) == SuspicionTracker.Verdict.FAILED) {
            Set<String> by = suspicions.reporters(failedHostId, now);
            fail(failedHostId, by.size() >= SuspicionTracker.REPORTERS_TO_FAIL ? "reported by " + by
                    : "reported by " + reporter + ", heartbeat stale");
            return new FailureReportReply(failedHostId, "failed");
        }
        LOG.info("host {} suspect: reported by {}, heartbeat still fresh", failedHostId, reporter);
        return new FailureReportReply(failedHostId, "suspect");
    }

    /** Fails every host silent for longer than the timeout. Called periodically by the detector. */
    public synchronized int expireSilentHosts() {
        foldArrivals();
        long now = clock.millis();
        long timeout = config.heartbeatTimeout().toMillis();
        List<String> silent = new ArrayList<>();
        for (HostRecord h : hosts.values()) {
            Liveness live = liveness.get(h.hostId());
            if (!h.failed() && live != null && now - live.lastSeenMillis > timeout) {
                silent.add(h.hostId());
            }
        }
        for (String hostId : silent) {
            fail(hostId, "no heartbeat for " + (now - liveness.get(hostId).lastSeenMillis) + " ms");
        }
        return silent.size();
    }

    /** Moves heartbeat arrival times noted outside the lock into the hosts' liveness. */
    private void foldArrivals() {
        for (Map.Entry<String, Long> e : heardAt.entrySet()) {
            Liveness live = liveness.get(e.getKey());
            if (live != null && e.getValue() > live.lastSeenMillis) {
                live.lastSeenMillis = e.getValue();
                live.heardSinceStart = true;
            }
            heardAt.remove(e.getKey(), e.getValue());
        }
    }

    private void fail(final String hostId, final String why) {
        transact(tx -> {
            tx.change.rebuildable();
            HostRecord failed = hosts.get(hostId).withFailed(true);
            hosts = copy(hosts);
            hosts.put(hostId, failed);
            tx.change.putHost(failed);
            replanFor(hostId, tx);
            tx.afterCommit(() -> {
                suspicions.clear(hostId);
                metrics.counter("virtman.host.failures", "cause", why.startsWith("reported") ? "report" : "timeout")
                        .increment();
                LOG.warn("host {} failed ({})", hostId, why);
            });
            return null;
        });
    }

    // ---------------------------------------------------------------- trees

    public synchronized TreeView tree(final String idOrName) {
        ImageRecord image = requireImage(idOrName);
        DistributionTree tree = trees.get(image.id());
        List<TreeView.Node> nodes = new ArrayList<>();
        for (String host : tree.breadthFirst()) {
            HostRecord h = hosts.get(host);
            String parent = tree.parentOf(host);
            nodes.add(new TreeView.Node(host, h.address(), h.locality().rack(), h.locality().zone(),
                    DistributionTree.SOURCE.equals(parent) ? null : parent, tree.childrenOf(host), tree.depthOf(host)));
        }
        List<String> waiting = unplaced.getOrDefault(image.id(), List.of());
        return new TreeView(image.id(), config.limits().fanOut(), config.limits().sourceFanOut(),
                config.limits().forHosts(tree.size() + waiting.size()).maxDepth(), tree.depth(), nodes, waiting);
    }

    private void replanFor(final String hostId, final Transaction tx) {
        for (String image : membership.getOrDefault(hostId, Set.of())) {
            replan(image, tx);
        }
    }

    /** Re-plans one image's tree against the current hosts and memberships. */
    private void replan(final String imageId, final Transaction tx) {
        DistributionTree current = trees.get(imageId);
        if (current == null) {
            return;
        }
        List<TreeMember> live = new ArrayList<>();
        for (HostRecord h : hosts.values()) {
            if (!h.failed() && membership.getOrDefault(h.hostId(), Set.of()).contains(imageId)) {
                Liveness l = liveness.get(h.hostId());
                long chunks = l == null ? 0 : l.chunksHeld.getOrDefault(imageId, 0L);
                live.add(new TreeMember(h.hostId(), h.locality(), chunks));
            }
        }
        PlanResult plan = planner.plan(current, live);
        unplaced = copy(unplaced);
        unplaced.put(imageId, plan.unplaced());
        if (plan.unchanged()) {
            return;
        }
        trees = copy(trees);
        trees.put(imageId, plan.tree());
        tx.change.putTree(imageId, plan.tree());
        tx.afterCommit(() -> {
            for (TreeChange c : plan.changes()) {
                switch (c.kind()) {
                    case MOVED -> LOG.info("image {}: re-parented {} from {} to {}", imageId, c.hostId(),
                            label(c.oldParent()), label(c.newParent()));
                    case JOINED -> LOG.debug("image {}: {} joined under {}", imageId, c.hostId(), label(c.newParent()));
                    case REMOVED -> LOG.info("image {}: {} left the tree", imageId, c.hostId());
                }
            }
            reparentEvents.increment(plan.moves());
            if (!plan.unplaced().isEmpty()) {
                LOG.warn("image {}: {} hosts wait for a slot (fan-out/depth bounds reached): {}", imageId,
                        plan.unplaced().size(), plan.unplaced());
            }
        });
    }

    private static String label(final String node) {
        return DistributionTree.SOURCE.equals(node) ? "source" : node;
    }

    // ---------------------------------------------------------------- boot profiles

    /**
     * Stores the boot read order of an image. The first writer wins: a second PUT is a conflict
     * unless {@code force}, so racing first boots cannot overwrite each other.
     *
     * @return true if created, false if replaced (force)
     */
    public synchronized boolean putProfile(final String idOrName, final List<Integer> chunks, final String recordedBy,
                                           final boolean force) {
        ImageRecord image = requireImage(idOrName);
        if (chunks == null || chunks.isEmpty()) {
            throw ManagerException.invalid("chunks must be a non-empty list of chunk indices");
        }
        if (recordedBy != null) {
            requireHostId(recordedBy, "recordedBy");
        }
        long count = image.manifest().chunkCount();
        if (chunks.size() > count) {
            throw ManagerException.invalid("profile lists " + chunks.size() + " chunks, the image has only " + count);
        }
        int[] order = new int[chunks.size()];
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < order.length; i++) {
            Integer c = chunks.get(i);
            if (c == null || c < 0 || c >= count) {
                throw ManagerException.invalid("chunks[" + i + "] = " + c + " is outside 0.." + (count - 1));
            }
            if (!seen.add(c)) {
                throw ManagerException.invalid("chunks[" + i + "] = " + c + " is listed twice");
            }
            order[i] = c;
        }
        BootProfile existing = profiles.get(image.id());
        if (existing != null && !force) {
            throw ManagerException.conflict("image " + image.id() + " already has a boot profile (recorded by "
                    + existing.recordedBy() + " at " + existing.recordedAt() + "); use force=true to replace it");
        }
        BootProfile profile = new BootProfile(image.id(), order, recordedBy, now());
        return transact(tx -> {
            profiles = copy(profiles);
            profiles.put(image.id(), profile);
            tx.change.putProfile(profile);
            tx.afterCommit(() -> LOG.info("image {}: boot profile of {} chunks {} by {}", image.id(), order.length,
                    existing == null ? "recorded" : "replaced", recordedBy));
            return existing == null;
        });
    }

    public synchronized BootProfileView profile(final String idOrName) {
        ImageRecord image = requireImage(idOrName);
        BootProfile p = profiles.get(image.id());
        if (p == null) {
            throw ManagerException.notFound("image " + image.id() + " has no boot profile yet");
        }
        List<Integer> chunks = new ArrayList<>(p.chunks().length);
        for (int c : p.chunks()) {
            chunks.add(c);
        }
        return new BootProfileView(image.id(), chunks, p.recordedBy(), p.recordedAt().toString());
    }

    // ---------------------------------------------------------------- helpers

    /** Millisecond precision: what the store keeps, so a restart shows the same times. */
    private Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    private Liveness markSeen(final String hostId) {
        long now = clock.millis();
        Liveness live = liveness.computeIfAbsent(hostId, k -> new Liveness(now));
        live.lastSeenMillis = now;
        live.heardSinceStart = true;
        // Reports are not cleared here: a host partitioned from its children may still reach
        // the manager. They expire after one timeout instead (see reportFailure).
        return live;
    }

    private HostRecord requireHost(final String hostId) {
        HostRecord host = hosts.get(hostId);
        if (host == null) {
            throw ManagerException.notFound("no host '" + hostId + "'; agents must register first (POST /v1/hosts)");
        }
        return host;
    }

    private static void requireHostId(final String hostId, final String field) {
        if (hostId == null || !TargetNames.HOST_ID.matcher(hostId).matches()) {
            throw ManagerException.invalid(field + " must match " + TargetNames.HOST_ID.pattern()
                    + " (it becomes part of an iSCSI name), got " + InputRules.quoted(hostId));
        }
    }

    private static void requireLabel(final String field, final String value) {
        if (value != null && !LABEL.matcher(value).matches()) {
            throw ManagerException.invalid(field + " must match " + LABEL.pattern() + ", got " + InputRules.quoted(value));
        }
    }

    private ImageView view(final ImageRecord i) {
        ManifestSummary m = i.manifest();
        return new ImageView(i.id(), i.name(), i.path(), m.sizeBytes(), m.chunkSize(), m.chunkCount(), m.digest(),
                m.manifestRef(), TargetNames.sourceIqn(i.id()), i.registeredAt().toString(),
                trees.getOrDefault(i.id(), DistributionTree.empty()).size(), profiles.containsKey(i.id()), i.glance());
    }

    private HostView view(final HostRecord h) {
        Liveness live = liveness.get(h.hostId());
        long now = clock.millis();
        boolean suspect = suspicions.suspected(h.hostId(), now);
        String state = h.failed() ? "failed" : suspect ? "suspect" : "alive";
        long ago = live == null || !live.heardSinceStart ? -1 : now - live.lastSeenMillis;
        List<String> served = new ArrayList<>();
        trees.forEach((image, tree) -> {
            if (tree.contains(h.hostId())) {
                served.add(image);
            }
        });
        served.sort(null);
        return new HostView(h.hostId(), h.address(), new Labels(h.locality().rack(), h.locality().zone()), state,
                h.registeredAt().toString(), ago, served);
    }

    private synchronized double countHosts(final boolean failed) {
        return hosts.values().stream().filter(h -> h.failed() == failed).count();
    }

    private synchronized double maxTreeDepth() {
        return trees.values().stream().mapToInt(DistributionTree::depth).max().orElse(0);
    }

    private void registerDepthGauge(final String imageId) {
        depthGauges.put(imageId, Gauge.builder("virtman.tree.depth", this, m -> m.depthOf(imageId))
                .tag("image", imageId).description("deepest level of the image's tree").register(metrics));
    }

    private synchronized double depthOf(final String imageId) {
        DistributionTree t = trees.get(imageId);
        return t == null ? 0 : t.depth();
    }

    private static <K, V> Map<K, V> copy(final Map<K, V> map) {
        return map instanceof LinkedHashMap ? new LinkedHashMap<>(map) : new HashMap<>(map);
    }

    // ---------------------------------------------------------------- transactions

    /** One mutating operation: its durable writes and what to do once they are committed. */
    private static final class Transaction {
        final StateChange change = new StateChange();
        final List<Runnable> afterCommit = new ArrayList<>();

        void afterCommit(final Runnable action) {
            afterCommit.add(action);
        }
    }

    /** Body of a transaction; may throw {@link ManagerException} to reject with no effect. */
    private interface TransactionBody<T> {
        T run(Transaction tx);
    }

    /**
     * Runs {@code body} against the in-memory state, commits its writes, then runs its
     * after-commit actions. Nested calls (e.g. a re-plan inside a heartbeat) join the outer
     * transaction.
     */
    private <T> T transact(final TransactionBody<T> body) {
        if (current != null) {
            return body.run(current);
        }
        Snapshot before = new Snapshot();
        Transaction tx = new Transaction();
        current = tx;
        try {
            T result = body.run(tx);
            store.commit(tx.change);
            current = null;
            tx.afterCommit.forEach(Runnable::run);
            return result;
        } catch (RuntimeException e) {
            before.restore();
            throw e;
        } finally {
            current = null;
        }
    }

    private Transaction current;

    /** The in-memory state at the start of a transaction (maps are copy-on-write). */
    private final class Snapshot {
        private final Map<String, ImageRecord> images = Manager.this.images;
        private final Map<String, HostRecord> hosts = Manager.this.hosts;
        private final Map<String, DistributionTree> trees = Manager.this.trees;
        private final Map<String, List<String>> unplaced = Manager.this.unplaced;
        private final Map<String, BootProfile> profiles = Manager.this.profiles;
        private final Map<String, Set<String>> membership = Manager.this.membership;
        private final long nextSeq = Manager.this.nextSeq;

        void restore() {
            Manager.this.images = images;
            Manager.this.hosts = hosts;
            Manager.this.trees = trees;
            Manager.this.unplaced = unplaced;
            Manager.this.profiles = profiles;
            Manager.this.membership = membership;
            Manager.this.nextSeq = nextSeq;
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
