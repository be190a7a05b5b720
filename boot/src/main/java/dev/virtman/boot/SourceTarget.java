package dev.virtman.boot;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.scsi.DiskIdentity;
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
    private final CountingBlockDevice device;
    private final IscsiTargetServer server;
    private final String iqn;

    private SourceTarget(final CountingBlockDevice device, final IscsiTargetServer server, final String iqn) {
        this.device = device;
        this.server = server;
        this.iqn = iqn;
    }

    /** Exports a registered image under the manager's source name for it. */
    public static SourceTarget start(final InetSocketAddress portal, final String imageId, final Path image)
            throws IOException {
        return export(portal, TargetNames.sourceIqn(imageId), image);
    }

    /** Exports {@code image} read-only as LUN 0 of target {@code iqn} (port 0: any free port). */
    public static SourceTarget export(final InetSocketAddress portal, final String iqn, final Path image)
            throws IOException {
        CountingBlockDevice device = new CountingBlockDevice(FileBlockDevice.open(image, false));
        try {
            ScsiDisk disk = new ScsiDisk(device, DiskIdentity.fromName(iqn));
            ExportedTarget target = new ExportedTarget(iqn, new LunTable(List.of(disk)), null, Set.of());
            IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(portal, List.of(target)),
                    new SimpleMeterRegistry());
            return new SourceTarget(device, server, iqn);
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

    /** Bytes of image data read for initiators so far (SCSI metadata such as INQUIRY not included). */
    public long bytesServed() {
        return device.bytes();
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
