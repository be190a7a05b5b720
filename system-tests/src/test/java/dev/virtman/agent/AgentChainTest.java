package dev.virtman.agent;

import dev.virtman.boot.SourceTarget;
import dev.virtman.block.TestImages;
import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestBuilder;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.testing.Checksums;
import dev.virtman.testing.QemuImg;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chain of real iSCSI hops on loopback: source (127.0.0.1) &lt;- agent A (127.0.0.2) &lt;- agent
 * B (127.0.0.3). QEMU's libiscsi driver ({@code qemu-img convert}) and VirtMan's own initiator
 * read every byte through B;
 * the copy must hash like the image, each chunk must cross each hop exactly once, and a second
 * full read must fetch nothing.
 */
@Tag("interop")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AgentChainTest {
    private static final int CHUNK = 64 << 10;
    private static final long IMAGE_SIZE = 48L << 20;
    private static final String IMAGE = "chain";

    @TempDir
    Path dir;

    @Test
    void everyByteCrossesEachHopOnceAndArrivesIntact() throws Exception {
        Path image = TestImages.create(dir.resolve("image.raw"), IMAGE_SIZE, 42);
        ChunkManifest manifest = new ManifestBuilder(CHUNK, 1, ManifestBuilder.ProgressListener.NONE).build(image);
        Path manifestFile = dir.resolve("image.manifest");
        ManifestFormat.write(manifest, manifestFile);
        try (SourceTarget source = SourceTarget.export(new InetSocketAddress("127.0.0.1", 0), ImageConfig.iqnOf(IMAGE), image);
             Agent a = Agent.start(AgentConfig.of(new ImageConfig(IMAGE, List.of(source.url()), manifestFile),
                     new InetSocketAddress("127.0.0.2", 0), new InetSocketAddress("127.0.0.2", 0), dir.resolve("a"))
                     .withFetchPolicy(ExactOnceFetching.POLICY));
             Agent b = Agent.start(AgentConfig.of(
                     new ImageConfig(IMAGE, List.of(a.exportUrl(IMAGE), source.url()), manifestFile),
                     new InetSocketAddress("127.0.0.3", 0), new InetSocketAddress("127.0.0.3", 0), dir.resolve("b"))
                     .withFetchPolicy(ExactOnceFetching.POLICY))) {
            Path copy = dir.resolve("copy.raw");
            QemuImg.convertToRaw(b.exportUrl(IMAGE), copy).requireSuccess();
            assertThat(Checksums.sha256(copy)).isEqualTo(Checksums.sha256(image));
            assertThat(sha256ThroughOurInitiator(b.exportUrl(IMAGE))).as("VirtMan's initiator reads the same bytes")
                    .isEqualTo(Checksums.sha256(image));

            assertThat(source.bytesServed()).as("source served each chunk once").isEqualTo(IMAGE_SIZE);
            assertThat(fetchedFrom(a, source.url())).isEqualTo(IMAGE_SIZE);
            assertThat(fetchedFrom(b, a.exportUrl(IMAGE))).as("B fetched everything from A").isEqualTo(IMAGE_SIZE);
            assertThat(fetchedFrom(b, source.url())).as("B never bypassed A").isZero();
            assertThat(b.image(IMAGE).stats().presentChunks()).isEqualTo(manifest.chunkCount());

            Path again = dir.resolve("again.raw");
            QemuImg.convertToRaw(b.exportUrl(IMAGE), again).requireSuccess();
            assertThat(Checksums.sha256(again)).isEqualTo(Checksums.sha256(image));
            assertThat(fetchedFrom(b, a.exportUrl(IMAGE))).as("warm read fetched nothing").isEqualTo(IMAGE_SIZE);
            assertThat(source.bytesServed()).isEqualTo(IMAGE_SIZE);

            String metrics = get(b, "/metrics");
            assertThat(metrics).contains("virtman_cache_chunks_present", "virtman_cache_hits_total",
                    "virtman_cache_misses_total", "virtman_parent_fetch_bytes_total",
                    "virtman_parent_fetch_latency_seconds", "virtman_cache_served_bytes_total",
                    "virtman_iscsi_target_sessions");
            assertThat(get(b, "/status")).contains("\"chunksPresent\" : " + manifest.chunkCount());
        }
    }

    private static String sha256ThroughOurInitiator(final String url) throws IOException {
        MessageDigest sha = ChunkManifest.newDigest();
        try (IscsiBlockDevice device = IscsiBlockDevice.open(IscsiUrl.parse(url), InitiatorOptions.defaults())) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (long off = 0; off < device.size(); off += buf.capacity()) {
                buf.clear().limit((int) Math.min(buf.capacity(), device.size() - off));
                device.read(off, buf);
                sha.update(buf.flip());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static long fetchedFrom(final Agent agent, final String parent) {
        return agent.status().images().getFirst().parents().stream()
                .filter(p -> p.url().equals(parent)).mapToLong(AgentStatus.Parent::bytesFetched).sum();
    }

    private static String get(final Agent agent, final String path) throws IOException, InterruptedException {
        InetSocketAddress m = agent.metricsAddress();
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://" + m.getAddress().getHostAddress() + ":" + m.getPort() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            return r.body();
        }
    }
}
