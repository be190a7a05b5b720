package dev.virtman.manager.volume;

import dev.virtman.manager.HostStatus;
import dev.virtman.manager.ImageStatus;
import dev.virtman.manager.InputRules;
import dev.virtman.manager.Manager;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.VolumeAssignment;
import dev.virtman.manager.api.VolumeConnection;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.api.VolumeView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Copy-on-write volumes over registered images (the Cinder driver's backend): records them,
 * places each on one host, hands the host's agent its volumes in heartbeat replies, and answers
 * connection requests with the iSCSI properties of the LUN on the attaching host's own agent.
 *
 * <p>A volume's data lives on its host's disk (the agent's overlay files), so a volume is placed
 * once and stays: a connection from another host is refused rather than silently giving it an
 * empty copy. Every request is validated before anything is stored (nothing half-applied).
 *
 * <p>Deletion is two-phase: the API marks the volume {@code deleting}, the agent learns it from
 * its next heartbeat reply, closes the LUN and removes the files, and the manager forgets the
 * volume once the agent stops reporting it. A manager that lost its database thus never makes an
 * agent delete anything: only volumes it lists as deleted are removed.
 */
public final class VolumeService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeService.class);
    private static final int SECTOR = 512;
    /** 128-bit CHAP secrets in hex: RFC 7143 §12.1.3 asks for at least 96 bits. */
    private static final int SECRET_BYTES = 16;
    private static final String CHAP_USER_PREFIX = "virtman-";

    private final Manager manager;
    private final VolumeStore store;
    private final SecureRandom random = new SecureRandom();

    public VolumeService(final Manager manager, final VolumeStore store) {
        this.manager = manager;
        this.store = store;
    }

    public synchronized VolumeView create(final CreateVolumeRequest request) {
        if (request == null) {
            throw ManagerException.invalid("a volume request needs a body");
        }
        InputRules.requireText("name", request.name());
        InputRules.requireText("image", request.image());
        long maxBytes = manager.config().admission().maxVolumeBytes();
        if (request.sizeBytes() < 0 || request.sizeBytes() > maxBytes) {
            throw ManagerException.invalid("volume size " + request.sizeBytes() + " is outside 0.." + maxBytes
                    + " bytes (virtman manager --max-volume-size)");
        }
        boolean blank = request.image() == null || request.image().isBlank();
        String id = request.id() == null || request.id().isBlank() ? UUID.randomUUID().toString() : request.id();
        if (!TargetNames.HOST_ID.matcher(id).matches()) {
            throw ManagerException.invalid("volume id " + InputRules.quoted(id) + " must match " + TargetNames.HOST_ID.pattern()
                    + " (it becomes part of an iSCSI name)");
        }
        if (blank && request.sizeBytes() <= 0) {
            throw ManagerException.invalid("a blank volume (no image) needs a size");
        }
        ImageStatus image = blank ? null : manager.image(request.image());
        String imageId = blank ? null : image.id();
        long imageSize = blank ? 0 : roundUp(image.sizeBytes());
        long size = request.sizeBytes() == 0 ? imageSize : request.sizeBytes();
        if (size < imageSize) {
            throw ManagerException.invalid("volume size " + size + " is smaller than image " + image.name()
                    + " (" + imageSize + " bytes)");
        }
        if (size % SECTOR != 0) {
            throw ManagerException.invalid("volume size " + size + " is not a multiple of " + SECTOR);
        }
        String host = request.host() == null || request.host().isBlank() ? null : manager.host(request.host()).hostId();
        var existing = store.find(id);
        if (existing.isPresent()) {
            VolumeRecord v = existing.get();
            if (java.util.Objects.equals(v.imageId(), imageId) && v.sizeBytes() == size && v.state() != VolumeState.DELETING) {
                return view(v); // a retried create
            }
            throw ManagerException.conflict("volume " + id + " exists (image " + v.imageId() + ", " + v.sizeBytes()
                    + " bytes, " + v.state().apiName() + ")");
        }
        VolumeRecord v = new VolumeRecord(id, request.name(), imageId, host, size,
                host == null ? VolumeState.PENDING : VolumeState.CREATING, CHAP_USER_PREFIX + shortId(id),
                secret(), Instant.now());
        store.insert(v);
        LOG.info("volume {} created over {} ({} bytes) on {}", id, blank ? "nothing (blank)" : "image " + imageId, size,
                host == null ? "no host yet" : host);
        return view(v);
    }

    /**
     * Removes an image unless a volume still reads through it: its unwritten data would be gone
     * from the tree. Under this service's lock, so no volume of the image is created meanwhile.
     */
    public synchronized void removeImage(final String imageRef) {
        String imageId = manager.image(imageRef).id();
        List<String> users = store.all().stream().filter(v -> imageId.equals(v.imageId())).map(VolumeRecord::id).toList();
        if (!users.isEmpty()) {
            throw ManagerException.conflict("image " + imageRef + " is the base of volume(s) " + users
                    + "; delete them first");
        }
        manager.removeImage(imageRef);
    }

    public synchronized List<VolumeView> volumes() {
        return store.all().stream().map(VolumeService::view).toList();
    }

    public synchronized VolumeView volume(final String id) {
        return view(find(id));
    }

    /** Deletes a volume: at once when it has no host, else once its agent has removed the files. */
    public synchronized void delete(final String id) {
        VolumeRecord v = find(id);
        switch (v.state()) {
            case PENDING -> store.delete(id);
            case CREATING, AVAILABLE -> store.update(v.withState(VolumeState.DELETING));
            case DELETING -> { }
        }
        LOG.info("volume {} deleted (was {})", id, v.state().apiName());
    }

    /**
     * Where {@code connector}'s host attaches the volume: places a pending volume on that host,
     * refuses a host other than the volume's own.
     */
    public synchronized VolumeConnection connect(final String id, final VolumeConnector connector) {
        VolumeRecord v = find(id);
        if (v.state() == VolumeState.DELETING) {
            throw ManagerException.conflict("volume " + id + " is being deleted");
        }
        HostStatus host = hostOf(connector);
        if (v.hostId() == null) {
            v = v.withHost(host.hostId(), VolumeState.CREATING);
            store.update(v);
            LOG.info("volume {} placed on host {} by its first connection", id, host.hostId());
        } else if (!v.hostId().equals(host.hostId())) {
            throw ManagerException.conflict("volume " + id + " lives on host " + v.hostId()
                    + " (its data is on that host's disk); it cannot be attached from " + host.hostId());
        }
        return new VolumeConnection(v.id(), host.hostId(), host.address(), TargetNames.volumeIqn(v.id()), 0, "CHAP",
                v.chapUser(), v.chapSecret(), v.state() == VolumeState.AVAILABLE);
    }

    private HostStatus hostOf(final VolumeConnector connector) {
        if (connector != null) {
            InputRules.requireText("connector.host", connector.host());
            InputRules.requireText("connector.ip", connector.ip());
            InputRules.requireText("connector.initiator", connector.initiator());
        }
        if (connector == null || (blank(connector.host()) && blank(connector.ip()))) {
            throw ManagerException.invalid("a connector needs the attaching host's name ('host') or address ('ip')");
        }
        List<HostStatus> hosts = manager.hosts();
        for (HostStatus h : hosts) {
            if (h.hostId().equals(connector.host())) {
                return h;
            }
        }
        for (HostStatus h : hosts) {
            if (!blank(connector.ip()) && h.address().startsWith(connector.ip() + ":")) {
                return h;
            }
        }
        throw ManagerException.notFound("no VirtMan host for connector host=" + connector.host() + " ip="
                + connector.ip() + ": run a managed agent on that compute node (its --host-id or portal address"
                + " must match)");
    }

    /**
     * Adds the host's volumes to its heartbeat reply and moves states on from what the agent
     * reports: an exported {@code creating} volume becomes {@code available}; a {@code deleting}
     * volume whose files the agent no longer reports is forgotten.
     */
    public synchronized HeartbeatReply onHeartbeat(final String hostId, final HeartbeatRequest request,
                                                   final HeartbeatReply reply) {
        Set<String> exported = new HashSet<>(request.volumes());
        Set<String> held = new HashSet<>(request.volumeFiles());
        held.addAll(exported);
        List<VolumeAssignment> assigned = new ArrayList<>();
        List<String> deleted = new ArrayList<>();
        for (VolumeRecord v : store.all()) {
            if (!hostId.equals(v.hostId())) {
                continue;
            }
            switch (v.state()) {
                case CREATING, AVAILABLE -> {
                    if (v.state() == VolumeState.CREATING && exported.contains(v.id())) {
                        store.update(v.withState(VolumeState.AVAILABLE));
                        LOG.info("volume {} exported by host {}", v.id(), hostId);
                    }
                    assigned.add(new VolumeAssignment(v.id(), v.imageId(), v.sizeBytes(),
                            TargetNames.volumeIqn(v.id()), v.chapUser(), v.chapSecret()));
                }
                case DELETING -> {
                    if (held.contains(v.id())) {
                        deleted.add(v.id());
                    } else {
                        store.delete(v.id());
                        LOG.info("volume {} removed by host {}; forgotten", v.id(), hostId);
                    }
                }
                case PENDING -> { }
            }
        }
        return reply.withVolumes(assigned, deleted);
    }

    private VolumeRecord find(final String id) {
        return store.find(id).orElseThrow(() -> ManagerException.notFound("no volume " + InputRules.quoted(id)));
    }

    static VolumeView view(final VolumeRecord v) {
        return new VolumeView(v.id(), v.name(), v.imageId(), v.hostId(), v.sizeBytes(), v.state().apiName(),
                TargetNames.volumeIqn(v.id()), v.createdAt().toString());
    }

    private String secret() {
        byte[] b = new byte[SECRET_BYTES];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String shortId(final String id) {
        String compact = id.replace("-", "");
        return compact.length() > 12 ? compact.substring(0, 12) : compact;
    }

    private static long roundUp(final long bytes) {
        return (bytes + SECTOR - 1) / SECTOR * SECTOR;
    }

    private static boolean blank(final String s) {
        return s == null || s.isBlank();
    }

    @Override
    public void close() {
        store.close();
    }
}
