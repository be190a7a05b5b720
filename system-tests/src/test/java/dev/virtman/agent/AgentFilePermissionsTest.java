package dev.virtman.agent;

import dev.virtman.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.TestImages;
import dev.virtman.boot.SourceTarget;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.FreePorts;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A managed agent's cache directory (image caches, manifests, volumes: tenants' disks) is
 * private: files it creates are 0600 in 0700 directories despite the umask, and a cache left
 * 0755/0644 (an older release: on 1ac25db {@code volumes/<id>/data} was 0644 in 0755
 * directories) is made private when the agent starts again.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AgentFilePermissionsTest {
    private static final int CHUNK = 64 << 10;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void cachesManifestsAndVolumesArePrivateWhateverExistedBefore() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), 16L * CHUNK, 3);
        int sourcePort = FreePorts.loopbackPort();
        Path cache = dir.resolve("cache");
        ManagerConfig managerConfig = ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withImageDirs(List.of(dir))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePort, Locality.UNKNOWN)
                .withHeartbeat(Duration.ofMillis(300), Duration.ofSeconds(3))
                .withChunkSize(CHUNK);
        try (ManagerServer manager = ManagerServer.start(managerConfig)) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            String id = client.registerImage("disk", image.toString()).id();
            try (SourceTarget source = SourceTarget.start(new InetSocketAddress("127.0.0.1", sourcePort), id, image)) {
                try (ManagedAgent agent = ManagedAgent.start(config(manager, cache))) {
                    try (IscsiBlockDevice d = IscsiBlockDevice.open(IscsiUrl.parse(agent.agent().exportUrl(id)),
                            InitiatorOptions.defaults())) {
                        d.read(0, ByteBuffer.allocate(CHUNK)); // a cached chunk
                    }
                    client.createVolume(new CreateVolumeRequest("vol-1", "vol-1", "disk", "host-a", 0));
                    Await.until(() -> client.volume("vol-1").status().equals("available"), WAIT, "the volume is exported");
                    assertThat(Files.exists(cache.resolve("volumes").resolve("vol-1"))).isTrue();
                    assertThat(FileModes.notPrivate(cache)).as("files the agent created").isEmpty();
                }
                FileModes.loosen(cache);
                // Except the host's token: an agent refuses a token file others could read (its
                // secret may have leaked: rotate it), rather than quietly fixing its mode.
                try (var tokens = Files.list(cache)) {
                    tokens.filter(p -> p.getFileName().toString().endsWith(".token"))
                            .forEach(p -> FileModes.chmod(p, "rw-------"));
                }
                assertThat(FileModes.mode(cache.resolve("volumes/vol-1/data"))).isEqualTo("rw-r--r--");
                try (ManagedAgent agent = ManagedAgent.start(config(manager, cache))) {
                    Await.until(() -> agent.agent().image(id) != null, WAIT, "the agent serves the image again");
                    assertThat(FileModes.notPrivate(cache)).as("after a restart over a loose cache").isEmpty();
                }
            }
        }
    }

    private static ManagedAgentConfig config(final ManagerServer manager, final Path cache) {
        return new ManagedAgentConfig(manager.url(), manager.token(), "host-a", List.of("disk"),
                new InetSocketAddress("127.0.0.2", FreePorts.loopbackPort()), null, cache, 0, 0, null, WAIT,
                Duration.ofSeconds(1), 0);
    }

}
