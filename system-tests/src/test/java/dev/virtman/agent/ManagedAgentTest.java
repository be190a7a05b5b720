package dev.virtman.agent;

import dev.virtman.testing.Await;
import dev.virtman.block.cache.ChunkCache;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.boot.SourceTarget;
import dev.virtman.block.TestImages;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiInitiator;
import dev.virtman.iscsi.initiator.DiscoveredTarget;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.FreePorts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Managed mode against the real manager (REST over HTTP, SQLite state) and real iSCSI hops:
 * agent A is placed under the source, records the boot profile of the first reads and uploads
 * it; agent B is placed under A, prefetches the profile from A before anyone reads, and moves to
 * the source when the manager drops A from the tree.
 */
@Tag("system")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ManagedAgentTest {
    private static final int CHUNK = 64 << 10;
    private static final long IMAGE_SIZE = 64L * CHUNK;
    private static final List<Integer> BOOT_ORDER = List.of(5, 3, 9, 1, 40);
    private static final Duration HEARTBEAT = Duration.ofMillis(300);
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void placementProfileAndParentSwapComeFromTheManager() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), IMAGE_SIZE, 7);
        int sourcePort = FreePorts.loopbackPort();
        try (ManagerServer manager = ManagerServer.start(managerConfig(sourcePort, CHUNK))) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView view = client.registerImage("disk", image.toString());
            String id = view.id();
            try (SourceTarget source = SourceTarget.start(new InetSocketAddress("127.0.0.1", sourcePort), id, image);
                 ManagedAgent a = ManagedAgent.start(config(manager, "host-a", "127.0.0.2"))) {
                assertThat(a.agent().image(id).parents()).containsExactly(source.url());
                String aExport = a.agent().exportUrl(id);
                assertThat(aExport).contains(TargetNames.agentIqn("host-a", id));
                readChunks(aExport, BOOT_ORDER);
                Await.until(() -> client.image(id).hasBootProfile(), WAIT, "A uploads its boot profile");
                assertThat(client.profile(id).chunks()).containsExactlyElementsOf(BOOT_ORDER);

                try (ManagedAgent b = ManagedAgent.start(config(manager, "host-b", "127.0.0.3"))) {
                    assertThat(b.agent().image(id).parents()).containsExactly(aExport, source.url());
                    ImageExport bImage = b.agent().image(id);
                    Await.until(() -> bImage.stats().presentChunks() == BOOT_ORDER.size(), WAIT,
                            "B prefetches the profile before any read");
                    assertThat(bImage.stats().bytesServed()).isZero();
                    assertThat(bImage.parentSet().parents().getFirst().bytesFetched())
                            .as("prefetched from A, not the source").isEqualTo((double) BOOT_ORDER.size() * CHUNK);

                    client.removeHost("host-a");
                    Await.until(() -> bImage.parents().equals(List.of(source.url())), WAIT,
                            "B moves to the source when A leaves the tree");
                    long before = source.bytesServed();
                    readChunks(b.agent().exportUrl(id), List.of(60));
                    assertThat(source.bytesServed() - before).isEqualTo(CHUNK);
                }
            }
        }
    }

    /**
     * A host behind NAT or a port forward ({@code agent --advertise}): the manager hands children
     * and Cinder the advertised portal, and the agent's own discovery answer must name it too, or
     * open-iscsi, which logs in to the portal SendTargets returns, is sent to an address it cannot
     * reach.
     */
    @Test
    void discoveryOfAnAdvertisedAgentNamesTheAdvertisedPortal() throws Exception {
        Path image = TestImages.create(dir.resolve("disk.raw"), IMAGE_SIZE, 7);
        InetSocketAddress advertised = new InetSocketAddress("127.0.0.9", 13260);
        try (ManagerServer manager = ManagerServer.start(managerConfig(FreePorts.loopbackPort(), CHUNK))) {
            new ManagerClient(manager.url(), manager.token()).registerImage("disk", image.toString());
            try (ManagedAgent a = ManagedAgent.start(config(manager, "host-a", "127.0.0.2").withAdvertisedPortal(advertised))) {
                InetSocketAddress bound = a.agent().portal();
                List<DiscoveredTarget> found = new IscsiInitiator(InitiatorOptions.defaults())
                        .discover(bound.getHostString(), bound.getPort());
                assertThat(found).isNotEmpty()
                        .allSatisfy(t -> assertThat(t.addresses()).containsExactly("127.0.0.9:13260,1"));
            }
        }
    }

    /**
     * The default prefetch queue holds 4,096 chunks; a boot profile longer than that (a few
     * hundred MB of boot reads at 64 KiB chunks) used to lose everything past the queue.
     */
    @Test
    void aBootProfileLongerThanThePrefetchQueueIsPrefetchedWhole() throws Exception {
        int chunk = ChunkManifest.MIN_CHUNK_SIZE;
        int chunks = 5120;
        Path image = TestImages.create(dir.resolve("disk.raw"), (long) chunks * chunk, 9);
        // every chunk but each tenth, last to first: 4,608 chunks, more than queue + threads
        List<Integer> profile = IntStream.iterate(chunks - 1, c -> c >= 0, c -> c - 1).filter(c -> c % 10 != 0)
                .boxed().toList();
        int sourcePort = FreePorts.loopbackPort();
        try (ManagerServer manager = ManagerServer.start(managerConfig(sourcePort, chunk))) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            String id = client.registerImage("disk", image.toString()).id();
            client.putProfile(id, profile, null, false);
            try (SourceTarget source = SourceTarget.start(new InetSocketAddress("127.0.0.1", sourcePort), id, image);
                 ManagedAgent agent = ManagedAgent.start(config(manager, "host-a", "127.0.0.2"))) {
                ImageExport export = agent.agent().image(id);
                ChunkCache.Options defaults = ChunkCache.Options.defaults(new SimpleMeterRegistry());
                assertThat(profile.size()).as("longer than the default queue and its threads")
                        .isGreaterThan(defaults.prefetchQueueLength() + defaults.prefetchThreads());
                Await.until(() -> export.stats().presentChunks() == profile.size(), WAIT, "the whole profile is cached");
                assertThat(profile).allMatch(export.cache()::isPresent);
                assertThat(export.cache().isPresent(0)).as("not in the profile").isFalse();
                assertThat(export.stats().bytesServed()).as("no reader asked").isZero();
                assertThat(source.bytesServed()).as("each profile chunk fetched once")
                        .isEqualTo((long) profile.size() * chunk);
            }
        }
    }

    private ManagerConfig managerConfig(final int sourcePort, final int chunkSize) {
        return ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withImageDirs(List.of(dir))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLimits(new TreeLimits(2, 1, 8))
                .withSource("127.0.0.1:" + sourcePort, Locality.UNKNOWN)
                .withHeartbeat(HEARTBEAT, HEARTBEAT.multipliedBy(10))
                .withChunkSize(chunkSize);
    }

    private ManagedAgentConfig config(final ManagerServer manager, final String host, final String address) {
        return new ManagedAgentConfig(manager.url(), manager.token(), host, List.of("disk"),
                new InetSocketAddress(address, FreePorts.loopbackPort()), null, dir.resolve("cache-" + host),
                0, 0, null, WAIT, Duration.ofSeconds(1));
    }

    private static void readChunks(final String url, final List<Integer> chunks) throws Exception {
        try (IscsiBlockDevice device = IscsiBlockDevice.open(IscsiUrl.parse(url), InitiatorOptions.defaults())) {
            for (int c : chunks) {
                device.read((long) c * CHUNK, ByteBuffer.allocate(CHUNK));
            }
        }
    }

}
