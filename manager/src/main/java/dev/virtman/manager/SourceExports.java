package dev.virtman.manager;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The manager's own source target ({@code virtman manager --serve-source}): every registered
 * image exported read-only on the source portal under the IQN its parent lists name
 * ({@link TargetNames#sourceIqn}), so the agents at depth 1 need no separately run source.
 *
 * <p>It follows the manager's image list rather than hooking registration: a reconcile pass
 * (every {@value #RECONCILE_MILLIS} ms, and on demand) exports images that appeared and stops
 * exporting removed ones, closing their sessions first (SPC-4 has no way to tell an initiator a
 * LUN went away that all initiators honour; the dropped connection is what agents handle). Reads
 * are counted: the bytes the source served are the figure a boot storm is judged by.
 *
 * <p>Only registered hosts may read: each target admits the initiator names of the manager's
 * registered hosts ({@link TargetNames#hostInitiator}, the name a managed agent logs in with),
 * kept in sync by the same pass, and discovery lists the targets only to them. Sessions of a host
 * that is removed are closed. With no host registered nobody is admitted. The names are what
 * initiators claim, not proof of who they are: the source portal belongs on the storage network
 * only hosts reach (docs/manager.md).
 */
public final class SourceExports implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceExports.class);
    static final long RECONCILE_MILLIS = 500;

    private final Manager manager;
    private final ImageDirectories imageDirs;
    private final IscsiTargetServer server;
    /** Exported images' devices by source IQN. */
    private final Map<String, CountingBlockDevice> devices = new HashMap<>();
    /** Images that could not be exported, so each is warned about once, not on every pass. */
    private final Set<String> warned = new HashSet<>();
    /** The initiator names every target admits now. */
    private Set<String> admitted = Set.of();
    private final ScheduledExecutorService reconciler;
    private long closedBytes;

    private SourceExports(final Manager manager, final IscsiTargetServer server) {
        this.manager = manager;
        this.imageDirs = manager.config().imageDirectories();
        this.server = server;
        this.reconciler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("source-exports").factory());
    }

    /** Listens on {@code portal} and exports every image registered now, then follows changes. */
    public static SourceExports start(final Manager manager, final InetSocketAddress portal) throws IOException {
        IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(portal, List.of()),
                new SimpleMeterRegistry());
        SourceExports exports = new SourceExports(manager, server);
        exports.reconcile();
        exports.reconciler.scheduleWithFixedDelay(exports::reconcileQuietly, RECONCILE_MILLIS, RECONCILE_MILLIS,
                TimeUnit.MILLISECONDS);
        return exports;
    }

    public InetSocketAddress portal() {
        return server.localAddress();
    }

    /** Image bytes read for initiators since start, over all images (SCSI metadata not included). */
    public synchronized long bytesServed() {
        return closedBytes + devices.values().stream().mapToLong(CountingBlockDevice::bytes).sum();
    }

    /** Exports new images and withdraws removed ones now. */
    public synchronized void reconcile() {
        Set<String> hosts = new HashSet<>();
        manager.hosts().forEach(h -> hosts.add(TargetNames.hostInitiator(h.hostId())));
        if (!hosts.equals(admitted)) {
            admitted = Set.copyOf(hosts);
            devices.keySet().forEach(iqn -> server.admitOnly(iqn, admitted));
        }
        Set<String> wanted = new HashSet<>();
        for (ImageStatus status : manager.images()) {
            ImageRecord image = status.image();
            wanted.add(TargetNames.sourceIqn(image.id()));
            if (!devices.containsKey(TargetNames.sourceIqn(image.id()))) {
                export(image);
            }
        }
        for (String iqn : List.copyOf(devices.keySet())) {
            if (!wanted.contains(iqn)) {
                server.removeTarget(iqn);
                close(devices.remove(iqn));
                LOG.info("source target no longer serves {}", iqn);
            }
        }
    }

    private void export(final ImageRecord image) {
        String iqn = TargetNames.sourceIqn(image.id());
        CountingBlockDevice device;
        try {
            // Checked again at each open: the file registered may since have been replaced by a
            // link out of the image directories.
            Path file = imageDirs.requireImageFile(image.path());
            device = new CountingBlockDevice(FileBlockDevice.open(file, false));
        } catch (ManagerException | IOException e) {
            // The file may be gone, unreadable or moved out of the image directories; the next
            // pass tries again, and agents fall back to other parents meanwhile.
            if (warned.add(TargetNames.sourceIqn(image.id()))) {
                LOG.warn("source target cannot serve image {} at {}: {}", image.id(), image.path(), e.getMessage());
            }
            return;
        }
        warned.remove(iqn);
        ScsiDisk disk = new ScsiDisk(device, DiskIdentity.fromName(iqn));
        ExportedTarget target = new ExportedTarget(iqn, new LunTable(List.of(disk)), null, Set.of())
                .admittingOnly(admitted);
        server.addTarget(target);
        devices.put(iqn, device);
        LOG.info("source target serves image {} ({}) as {}", image.id(), image.name(), iqn);
    }

    private void reconcileQuietly() {
        try {
            reconcile();
        } catch (RuntimeException e) {
            LOG.warn("source target reconcile failed; retrying: {}", e.toString());
        }
    }

    private void close(final CountingBlockDevice device) {
        closedBytes += device.bytes();
        try {
            device.close();
        } catch (IOException e) {
            LOG.debug("closing a source image: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() {
        reconciler.shutdownNow();
        server.close();
        devices.values().forEach(this::close);
        devices.clear();
    }
}
