package dev.virtman.boot;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.manager.TargetNames;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.LunTable;
import dev.virtman.scsi.ScsiDisk;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The root of a distribution tree: a registered raw image exported read-only under the name the
 * manager gives its source ({@link TargetNames#sourceIqn}), so agents at depth 1 find it.
 * Counts the bytes it serves, which is the figure a boot storm is judged by.
 */
public final class SourceTarget implements AutoCloseable {
    private static final String READ_BYTES_METER = "virtman.iscsi.target.read.bytes";

    private final FileBlockDevice device;
    private final IscsiTargetServer server;
    private final SimpleMeterRegistry registry;
    private final String iqn;

    private SourceTarget(final FileBlockDevice device, final IscsiTargetServer server,
                         final SimpleMeterRegistry registry, final String iqn) {
        this.device = device;
        this.server = server;
        this.registry = registry;
        this.iqn = iqn;
    }

    public static SourceTarget start(final InetSocketAddress portal, final String imageId, final Path image)
            throws IOException {
        FileBlockDevice device = FileBlockDevice.open(image, false);
        String iqn = TargetNames.sourceIqn(imageId);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            ScsiDisk disk = new ScsiDisk(device, DiskIdentity.fromName(iqn));
            ExportedTarget target = new ExportedTarget(iqn, new LunTable(List.of(disk)), null, Set.of());
            IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(portal, List.of(target)), registry);
            return new SourceTarget(device, server, registry, iqn);
        } catch (IOException | RuntimeException e) {
            device.close();
            throw e;
        }
    }

    public InetSocketAddress portal() {
        return server.localAddress();
    }

    public String iqn() {
        return iqn;
    }

    public String url() {
        InetSocketAddress a = portal();
        return "iscsi://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/" + iqn + "/0";
    }

    /** Bytes of image data sent to initiators so far. */
    public long bytesServed() {
        var counter = registry.find(READ_BYTES_METER).counter();
        return counter == null ? 0 : (long) counter.count();
    }

    @Override
    public void close() {
        server.close();
        try {
            device.close();
        } catch (IOException ignored) {
            // read-only file: nothing to lose
        }
    }
}
