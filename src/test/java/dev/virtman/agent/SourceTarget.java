package dev.virtman.agent;

import dev.virtman.block.CountingBlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.LunTable;
import dev.virtman.scsi.ScsiDisk;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * The source of a distribution tree in a test: a raw image exported read-only by VirtMan's own
 * target, as {@code virtman serve} does, with a counter of the bytes it served.
 */
final class SourceTarget implements AutoCloseable {
    private final CountingBlockDevice counted;
    private final IscsiTargetServer server;
    private final String iqn;

    private SourceTarget(final CountingBlockDevice counted, final IscsiTargetServer server, final String iqn) {
        this.counted = counted;
        this.server = server;
        this.iqn = iqn;
    }

    static SourceTarget start(final Path image, final String host, final String imageName) throws IOException {
        return start(image, new InetSocketAddress(host, 0), ImageConfig.iqnOf(imageName));
    }

    static SourceTarget start(final Path image, final InetSocketAddress portal, final String iqn) throws IOException {
        CountingBlockDevice counted = new CountingBlockDevice(FileBlockDevice.open(image, false));
        LunTable luns = new LunTable(List.of(new ScsiDisk(counted,
                DiskIdentity.fromName(iqn).withForcedReadOnly(true))));
        IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(portal,
                List.of(ExportedTarget.open(iqn, luns))), new SimpleMeterRegistry());
        return new SourceTarget(counted, server, iqn);
    }

    String url() {
        InetSocketAddress a = server.localAddress();
        return "iscsi://" + a.getAddress().getHostAddress() + ":" + a.getPort() + "/" + iqn + "/0";
    }

    long bytesServed() {
        return counted.bytes();
    }

    @Override
    public void close() throws IOException {
        server.close();
        counted.close();
    }
}
