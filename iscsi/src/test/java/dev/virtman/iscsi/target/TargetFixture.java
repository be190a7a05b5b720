package dev.virtman.iscsi.target;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.scsi.DiskIdentity;
import dev.virtman.scsi.ScsiCommandExecutor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** A target server on 127.0.0.1:0 exporting a real {@link ScsiDisk} over a temporary image file. */
final class TargetFixture implements AutoCloseable {

    static final String IQN = "iqn.2026-11.dev.virtman:test";
    static final int BLOCK = 512;

    final Path image;
    final byte[] content;
    final FileBlockDevice device;
    final IscsiTargetServer server;
    /** The server's counters. */
    final SimpleMeterRegistry registry;

    private TargetFixture(final Path image, final byte[] content, final FileBlockDevice device,
                          final IscsiTargetServer server, final SimpleMeterRegistry registry) {
        this.image = image;
        this.content = content;
        this.device = device;
        this.server = server;
        this.registry = registry;
    }

    /** A writable 4 MiB disk of seeded random bytes. */
    static TargetFixture start(final Path dir) throws IOException {
        return start(dir, null, Set.of(), TargetTuning.DEFAULTS, null);
    }

    /**
     * @param wrap when non-null, wraps the disk's executor (to block or count commands)
     */
    static TargetFixture start(final Path dir, final ChapConfig chap, final Set<String> allowed,
                               final TargetTuning tuning, final java.util.function.UnaryOperator<ScsiCommandExecutor> wrap)
            throws IOException {
        return start(dir, chap, allowed, tuning, wrap, null);
    }

    /** @param advertised the portal SendTargets names, or null for the one connected to */
    static TargetFixture start(final Path dir, final ChapConfig chap, final Set<String> allowed,
                               final TargetTuning tuning, final java.util.function.UnaryOperator<ScsiCommandExecutor> wrap,
                               final InetSocketAddress advertised) throws IOException {
        byte[] content = new byte[4 << 20];
        new Random(42).nextBytes(content);
        Path image = Files.createTempFile(dir, "target", ".img");
        Files.write(image, content);
        FileBlockDevice device = FileBlockDevice.open(image, true);
        ScsiCommandExecutor executor = new LunTable(List.of(new ScsiDisk(device, DiskIdentity.fromName(IQN + "/0"))));
        if (wrap != null) {
            executor = wrap.apply(executor);
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
                new InetSocketAddress("127.0.0.1", 0),
                List.of(new ExportedTarget(IQN, executor, chap, allowed)), tuning, advertised), registry);
        return new TargetFixture(image, content, device, server, registry);
    }

    InetSocketAddress address() {
        return server.localAddress();
    }

    TestInitiator connect() throws IOException {
        return new TestInitiator(address());
    }

    @Override
    public void close() throws IOException {
        server.close();
        device.close();
    }
}
