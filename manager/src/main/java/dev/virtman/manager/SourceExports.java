package dev.virtman.manager;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.LunTable;
import dev.virtman.scsi.ScsiDisk;
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
 */
public final class SourceExports implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceExports.class);
    static final long RECONCILE_MILLIS = 500;

    private final Manager manager;
    private final IscsiTargetServer server;
    /** Exported images' devices by source IQN. */
    private final Map<String, CountingBlockDevice> devices = new HashMap<>();
    private final ScheduledExecutorService reconciler;
    private long closedBytes;

    private SourceExports(final Manager manager, final IscsiTargetServer server) {
        this.manager = manager;
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
        CountingBlockDevice device;
        try {
            device = new CountingBlockDevice(FileBlockDevice.open(Path.of(image.path()), false));
        } catch (IOException e) {
            // The file may be gone or unreadable; the next pass tries again, and agents fall back
            // to other parents meanwhile.
            LOG.warn("source target cannot open image {} at {}: {}", image.id(), image.path(), e.toString());
            return;
        }
        ScsiDisk disk = new ScsiDisk(device, DiskIdentity.fromName(TargetNames.sourceIqn(image.id())));
        server.addTarget(new ExportedTarget(TargetNames.sourceIqn(image.id()), new LunTable(List.of(disk)), null, Set.of()));
        devices.put(TargetNames.sourceIqn(image.id()), device);
        LOG.info("source target serves image {} ({}) as {}", image.id(), image.name(), TargetNames.sourceIqn(image.id()));
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
