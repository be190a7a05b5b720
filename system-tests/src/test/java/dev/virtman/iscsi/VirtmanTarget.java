package dev.virtman.iscsi;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.testing.IscsiTargetUnderTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * VirtMan's own iSCSI target, in this JVM, exporting one image file as LUN 0 on an ephemeral
 * loopback port: the same stack {@code virtman serve} runs (file → {@link ScsiDisk} →
 * {@link IscsiTargetServer}).
 */
public final class VirtmanTarget implements IscsiTargetUnderTest {
    public static final int DISK_LUN = 0;

    private final IscsiTargetServer server;
    private final FileBlockDevice device;
    private final String iqn;

    private VirtmanTarget(final IscsiTargetServer server, final FileBlockDevice device, final String iqn) {
        this.server = server;
        this.device = device;
        this.iqn = iqn;
    }

    public static VirtmanTarget start(final Path image, final String iqn, final boolean writable) {
        FileBlockDevice device = null;
        try {
            device = FileBlockDevice.open(image, writable);
            LunTable luns = new LunTable(List.of(new ScsiDisk(device, DiskIdentity.fromName(iqn + "/" + DISK_LUN))));
            IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    List.of(ExportedTarget.open(iqn, luns))));
            return new VirtmanTarget(server, device, iqn);
        } catch (IOException e) {
            closeQuietly(device);
            throw new UncheckedIOException("cannot start the VirtMan target on " + image, e);
        }
    }

    @Override
    public String name() {
        return "virtman";
    }

    @Override
    public int portalPort() {
        return server.localAddress().getPort();
    }

    @Override
    public String iqn() {
        return iqn;
    }

    @Override
    public int diskLun() {
        return DISK_LUN;
    }

    public IscsiTargetServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
        closeQuietly(device);
    }

    private static void closeQuietly(final FileBlockDevice device) {
        if (device == null) {
            return;
        }
        try {
            device.close();
        } catch (IOException ignored) {
            // the test is over; a close failure of a read channel changes nothing
        }
    }

    @Override
    public String toString() {
        return "virtman(" + url() + ")";
    }
}
