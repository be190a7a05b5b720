package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.VolumeConnection;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.api.VolumeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /v1/volumes} over real HTTP with the real stores: placement by the first connection,
 * the heartbeat hand-over to the host's agent, two-phase delete, and 4xx answers that change
 * nothing.
 */
class VolumeApiTest {
    private static final long IMAGE_BYTES = 10 * ManagerApiTest.CHUNK + 100;
    private static final long IMAGE_SECTORS_BYTES = (IMAGE_BYTES + 511) / 512 * 512;

    @TempDir
    Path tmp;
    ManagerServer server;
    ManagerClient client;
    ImageView image;

    @BeforeEach
    void start() throws IOException {
        Path file = RandomFiles.write(tmp.resolve("disk.raw"), (int) IMAGE_BYTES, 1);
        server = ManagerServer.start(ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8)));
        client = new ManagerClient(server.url(), server.token());
        image = client.registerImage("disk", file.toString());
        client.registerHost("compute-1", "127.0.0.11:3260", Labels.NONE);
        client.registerHost("compute-2", "127.0.0.12:3260", Labels.NONE);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aVolumeIsPlacedByItsFirstConnectionAndHandedToThatHostsAgent() {
        VolumeView v = client.createVolume(new CreateVolumeRequest("vol-a", "a", "disk", null, 0));
        assertThat(v.status()).isEqualTo("pending");
        assertThat(v.sizeBytes()).isEqualTo(IMAGE_SECTORS_BYTES);
        assertThat(v.iqn()).isEqualTo(TargetNames.volumeIqn("vol-a"));

        VolumeConnection c = client.connectVolume("vol-a", new VolumeConnector(null, "127.0.0.12", "iqn.x"));
        assertThat(c.hostId()).as("matched by address").isEqualTo("compute-2");
        assertThat(c.portal()).isEqualTo("127.0.0.12:3260");
        assertThat(c.authMethod()).isEqualTo("CHAP");
        assertThat(c.authPassword()).hasSizeGreaterThanOrEqualTo(24);
        assertThat(c.exported()).isFalse();

        HeartbeatReply r = heartbeat("compute-2", List.of());
        assertThat(r.volumes()).singleElement().satisfies(a -> {
            assertThat(a.id()).isEqualTo("vol-a");
            assertThat(a.chapSecret()).isEqualTo(c.authPassword());
        });
        assertThat(heartbeat("compute-1", List.of()).volumes()).isEmpty();
        client.heartbeat("compute-2", new HeartbeatRequest("compute-2", Map.of(), List.of(), List.of("vol-a")));
        assertThat(client.volume("vol-a").status()).as("files on disk are not an export").isEqualTo("creating");
        heartbeat("compute-2", List.of("vol-a"));
        assertThat(client.volume("vol-a").status()).isEqualTo("available");
        assertThat(client.connectVolume("vol-a", new VolumeConnector("compute-2", null, null)).exported()).isTrue();

        assertThatThrownBy(() -> client.connectVolume("vol-a", new VolumeConnector("compute-1", null, null)))
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("lives on host compute-2")
                .satisfies(e -> assertThat(((ManagerClientException) e).status()).isEqualTo(409));

        assertThat(status(() -> client.removeImage("disk"))).as("an image under a volume stays").isEqualTo(409);
        assertThat(client.image("disk").id()).isEqualTo(image.id());

        client.deleteVolume("vol-a");
        assertThat(client.volume("vol-a").status()).isEqualTo("deleting");
        HeartbeatReply d = heartbeat("compute-2", List.of("vol-a"));
        assertThat(d.volumes()).isEmpty();
        assertThat(d.deletedVolumes()).containsExactly("vol-a");
        heartbeat("compute-2", List.of());
        assertThat(status(() -> client.volume("vol-a"))).isEqualTo(404);
        client.removeImage("disk");
        assertThat(status(() -> client.image("disk"))).isEqualTo(404);
    }

    @Test
    void badRequestsAreRefusedAndChangeNothing() {
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest(null, null, "nope", null, 0)))).isEqualTo(404);
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest("Bad_Id", null, "disk", null, 0)))).isEqualTo(422);
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest("v1", null, "disk", null, 512)))).isEqualTo(422);
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest("v1", null, "disk", null, IMAGE_SECTORS_BYTES + 1))))
                .isEqualTo(422);
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest("v1", null, "disk", "no-such-host", 0)))).isEqualTo(404);
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest("v1", null, null, null, 0))))
                .as("a blank volume needs a size").isEqualTo(422);
        assertThat(client.volumes()).isEmpty();

        client.createVolume(new CreateVolumeRequest("v1", null, "disk", null, 0));
        assertThat(client.createVolume(new CreateVolumeRequest("v1", null, "disk", null, 0)).id())
                .as("a retried create is answered with the volume").isEqualTo("v1");
        assertThat(status(() -> client.createVolume(new CreateVolumeRequest("v1", null, "disk", null, 1 << 20))))
                .isEqualTo(409);
        assertThat(status(() -> client.connectVolume("v1", new VolumeConnector("unknown", "10.9.9.9", null))))
                .isEqualTo(404);
        assertThat(status(() -> client.connectVolume("v1", new VolumeConnector(null, null, null)))).isEqualTo(422);
        assertThat(client.volume("v1").status()).as("a refused connection places nothing").isEqualTo("pending");
        assertThat(status(() -> client.connectVolume("v2", new VolumeConnector("compute-1", null, null)))).isEqualTo(404);
        client.deleteVolume("v1");
        assertThat(client.volumes()).as("a pending volume is deleted at once").isEmpty();

        VolumeView blank = client.createVolume(new CreateVolumeRequest("blank-1", null, null, "compute-1", 1 << 20));
        assertThat(blank.imageId()).isNull();
        assertThat(blank.status()).isEqualTo("creating");
        assertThat(heartbeat("compute-1", List.of()).volumes()).singleElement()
                .satisfies(a -> assertThat(a.imageId()).isNull());
    }

    private HeartbeatReply heartbeat(final String host, final List<String> volumes) {
        return client.heartbeat(host, new HeartbeatRequest(host, Map.of(), volumes));
    }

    private static int status(final Runnable call) {
        try {
            call.run();
        } catch (ManagerClientException e) {
            return e.status();
        }
        throw new AssertionError("the call succeeded");
    }
}
