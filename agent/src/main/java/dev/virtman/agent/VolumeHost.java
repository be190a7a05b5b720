package dev.virtman.agent;

import dev.virtman.block.PrivateFiles;
import dev.virtman.block.BlockDevice;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.block.overlay.CopyOnWriteOverlay;
import dev.virtman.block.overlay.EmptyBase;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.VolumeAssignment;
import dev.virtman.manager.client.ManagerClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The volumes of a managed agent: makes the exported LUNs match what the manager's heartbeat
 * replies assign, and removes the files of volumes the manager lists as deleted.
 *
 * <p>A volume reads unwritten data through its image's shared cache on this agent. When the agent
 * does not serve the image yet, it asks to join the image's tree (the image is listed in the next
 * heartbeat), opens the image's export with the parents the reply gives, and then creates the
 * volume: so a compute node needs no image configured up front, and N volumes of one image share
 * one cache, fetching each chunk once.
 *
 * <p>Runs on the heartbeat thread only; {@link #exportedVolumes()} may be read from others.
 */
final class VolumeHost implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeHost.class);
    static final String VOLUMES_DIR = "volumes";
    private static final String PLACED = "placed";

    private final Agent agent;
    private final String hostId;
    private final ManagerClient client;
    private final ParentConnector connector;
    private final Path volumesDir;
    private final Path manifestDir;
    private final Map<String, VolumeExport> volumes = new ConcurrentHashMap<>();
    /** Images opened for volumes (the agent was not started with them), by image id. */
    private final Map<String, ImageExport> baseImages = new ConcurrentHashMap<>();
    /** Images a volume waits for: listed in heartbeats until the manager places this host. */
    private final Set<String> wantedImages = ConcurrentHashMap.newKeySet();

    VolumeHost(final Agent agent, final String hostId, final ManagerClient client, final ParentConnector connector,
               final Path volumesDir, final Path manifestDir) throws IOException {
        this.agent = agent;
        this.hostId = hostId;
        this.client = client;
        this.connector = connector;
        // Volumes are tenants' disks: private whatever an older release or an operator left.
        this.volumesDir = PrivateFiles.createDirectories(volumesDir);
        PrivateFiles.secureTree(volumesDir);
        this.manifestDir = PrivateFiles.createDirectories(manifestDir);
    }

    /** Tree memberships this host needs for its volumes' images, beyond the agent's own images. */
    Map<String, HeartbeatRequest.ImageReport> imageReports() {
        Map<String, HeartbeatRequest.ImageReport> out = new LinkedHashMap<>();
        wantedImages.forEach(id -> out.put(id, new HeartbeatRequest.ImageReport(0)));
        baseImages.forEach((id, image) -> out.put(id, new HeartbeatRequest.ImageReport(image.stats().presentChunks())));
        return out;
    }

    /** Volumes this host exports now. */
    List<String> exportedVolumes() {
        return List.copyOf(new TreeSet<>(volumes.keySet()));
    }

    /** Volumes whose files are on this host's disk (exported or not). */
    List<String> volumeFiles() {
        return volumesOnDisk(volumesDir);
    }

    /** Ids of the volume directories in {@code volumesDir} (none when it does not exist yet). */
    static List<String> volumesOnDisk(final Path volumesDir) {
        Set<String> ids = new TreeSet<>();
        if (!Files.isDirectory(volumesDir)) {
            return List.of();
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(volumesDir)) {
            for (Path d : dirs) {
                if (Files.isDirectory(d)) {
                    ids.add(d.getFileName().toString());
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", volumesDir, e.toString());
        }
        return List.copyOf(ids);
    }

    Map<String, VolumeExport> volumes() {
        return volumes;
    }

    /** The image exports opened for volumes, by image id. */
    Map<String, ImageExport> baseImages() {
        return baseImages;
    }

    /** Applies one heartbeat reply: deletions first, then parent moves, then new volumes. */
    void apply(final HeartbeatReply reply) {
        for (String id : reply.deletedVolumes()) {
            remove(id);
        }
        for (Map.Entry<String, ImageExport> e : baseImages.entrySet()) {
            HeartbeatReply.Placement p = reply.images().get(e.getKey());
            if (p != null && PLACED.equals(p.status()) && !p.parents().isEmpty()) {
                e.getValue().replaceParents(ManagedAgent.urls(p.parents()));
            }
        }
        for (VolumeAssignment a : reply.volumes()) {
            if (volumes.containsKey(a.id())) {
                continue;
            }
            try {
                if (a.imageId() == null) {
                    export(a, EmptyBase.INSTANCE, EmptyBase.id());
                    continue;
                }
                ChunkCache base = base(a.imageId(), reply);
                if (base != null) {
                    export(a, base, base.manifest().imageId());
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("volume {}: not exported yet, retrying next heartbeat: {}", a.id(), e.toString());
            }
        }
    }

    /** The image's cache on this agent, opening it once the manager has placed this host; else null. */
    private ChunkCache base(final String imageId, final HeartbeatReply reply) throws IOException {
        ImageExport own = agent.images().stream().filter(i -> i.name().equals(imageId)).findFirst().orElse(null);
        if (own != null) {
            return own.cache();
        }
        ImageExport opened = baseImages.get(imageId);
        if (opened != null) {
            return opened.cache();
        }
        HeartbeatReply.Placement p = reply.images().get(imageId);
        if (p == null || !PLACED.equals(p.status()) || p.parents().isEmpty()) {
            if (wantedImages.add(imageId)) {
                LOG.info("image {}: joining its tree for a volume", imageId);
            }
            return null;
        }
        ChunkManifest manifest = ManifestFormat.decode(client.manifest(imageId));
        if (!manifest.imageIdHex().startsWith(imageId)) {
            throw new IOException("manager sent the manifest of image " + manifest.imageIdHex() + " for " + imageId);
        }
        Path file = manifestDir.resolve(imageId);
        ManifestFormat.write(manifest, file);
        ImageConfig config = new ImageConfig(imageId, ManagedAgent.urls(p.parents()), file,
                TargetNames.agentIqn(hostId, imageId));
        // The agent's caps are the host's links: an image opened for volumes shares them.
        ImageExport image = ImageExport.open(config, manifest, agent.cacheRoot(), ExportOptions.of(connector,
                agent.config().fetchPolicy(), ChunkCache.Options.defaults(agent.registry()))
                .withCaps(agent.upstreamCap(), agent.downstreamCap()));
        try {
            // Children the manager places under this host fetch from this export.
            agent.addTarget(new ExportedTarget(config.iqn(), image.luns(), null, Set.of(), image.firstReads()));
        } catch (RuntimeException e) {
            image.close();
            throw e;
        }
        baseImages.put(imageId, image);
        wantedImages.remove(imageId);
        LOG.info("image {}: opened for volumes, parents {}", imageId, config.parents());
        return image.cache();
    }

    private void export(final VolumeAssignment a, final BlockDevice base, final byte[] baseId) throws IOException {
        VolumeExport v = VolumeExport.openOrCreate(volumesDir.resolve(a.id()), a, base, baseId, agent.registry(),
                agent.downstreamCap());
        try {
            agent.addTarget(v.target());
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
        volumes.put(a.id(), v);
        LOG.info("volume {} exported as {} ({} bytes over image {})", a.id(), a.iqn(), a.sizeBytes(), a.imageId());
    }

    /** Stops exporting a volume (its sessions are dropped) and removes its files. */
    private void remove(final String id) {
        VolumeExport v = volumes.remove(id);
        try {
            if (v != null) {
                agent.removeTarget(v.iqn());
                v.close();
            }
            CopyOnWriteOverlay.delete(volumesDir.resolve(id));
            LOG.info("volume {} deleted", id);
        } catch (IOException e) {
            LOG.warn("volume {}: deleting its files failed, retrying next heartbeat: {}", id, e.toString());
        }
    }

    @Override
    public void close() {
        List<Closeable> all = new ArrayList<>(volumes.values());
        all.addAll(baseImages.values());
        volumes.clear();
        baseImages.clear();
        for (Closeable c : all) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.warn("closing {}: {}", c, e.toString());
            }
        }
    }
}
