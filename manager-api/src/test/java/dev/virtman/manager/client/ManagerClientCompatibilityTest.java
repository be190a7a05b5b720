package dev.virtman.manager.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Json;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.api.VolumeConnection;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.api.VolumeView;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client one release older than its manager: the manager's views carry fields this build does
 * not know (as {@code ImageView} once gained {@code glance}). The CLI's and agents'
 * {@link ManagerClient} must read them, over real HTTP from a server on 127.0.0.1 that sends
 * this build's views with extra fields added; while the manager itself stays strict on requests.
 */
class ManagerClientCompatibilityTest {

    private static final String TOKEN = "compat-token";
    private static final GlanceOrigin ORIGIN = new GlanceOrigin("http://glance:9292", "9c1e2d34-5f6a-4b7c",
            "Debian 12", "qcow2", "sha512", "ab".repeat(64), "cd".repeat(16), "debian-12", 1);
    private static final ImageView IMAGE = new ImageView("5d0f1c2b3a4e5f60", "debian-12", "/images/d.raw",
            1L << 30, 65536, 16384, "sha256:00ff", "manifests/5d0f", "iqn.2026-01.dev.virtman:source.5d0f1c2b3a4e5f60",
            "2026-11-26T10:00:00Z", 3, true, ORIGIN);

    private final Map<String, Reply> replies = new ConcurrentHashMap<>();
    private HttpServer server;
    private ManagerClient client;

    private record Reply(int status, String body) { }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                Reply reply = replies.get(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
                if (reply == null || !("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                    reply = new Reply(500, "{\"error\":\"test server: unexpected request\"}");
                }
                byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(reply.status(), body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.start();
        InetSocketAddress at = server.getAddress();
        client = new ManagerClient(URI.create("http://127.0.0.1:" + at.getPort()), TOKEN);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** {@code value} as the manager writes it, plus fields this build has never heard of. */
    private static ObjectNode newer(final Object value) {
        ObjectNode node = Json.MAPPER.valueToTree(value);
        node.put("storageTier", "nvme");
        node.putObject("replication").put("copies", 2).putArray("sites").add("rack-a").add("rack-b");
        node.putArray("labelsV2").addObject().put("key", "zone");
        return node;
    }

    private void serve(final String request, final int status, final Object body) {
        replies.put(request, new Reply(status, body.toString()));
    }

    @Test
    void anImageViewWithUnknownFieldsAtTopAndNestedLevelReadsAsTheKnownFields() {
        ObjectNode view = newer(IMAGE);
        ((ObjectNode) view.get("glance")).put("visibility", "public").putObject("properties").put("os_distro", "debian");
        serve("GET /v1/images/debian-12", 200, view);
        serve("GET /v1/images", 200, Json.MAPPER.createArrayNode().add(view).add(newer(IMAGE)));

        assertThat(client.image("debian-12")).isEqualTo(IMAGE);
        assertThat(client.images()).containsExactly(IMAGE, IMAGE);
    }

    @Test
    void volumeViewsAndConnectionsWithUnknownFieldsRead() {
        VolumeView volume = new VolumeView("vol-1", "root", IMAGE.id(), "compute-1", 2L << 30, "available",
                "iqn.2026-01.dev.virtman:volume.vol-1", "2026-11-26T10:00:00Z");
        VolumeConnection connection = new VolumeConnection("vol-1", "compute-1", "127.0.0.2:3260",
                "iqn.2026-01.dev.virtman:volume.vol-1", 0, "CHAP", "vol-vol", "0123456789abcdef", true);
        serve("POST /v1/volumes", 201, newer(volume));
        serve("GET /v1/volumes", 200, Json.MAPPER.createArrayNode().add(newer(volume)));
        serve("POST /v1/volumes/vol-1/connection", 200, newer(connection).put("multipathPortals", "[]"));

        assertThat(client.createVolume(new CreateVolumeRequest("vol-1", "root", IMAGE.id(), null, 0)))
                .isEqualTo(volume);
        assertThat(client.volumes()).containsExactly(volume);
        assertThat(client.connectVolume("vol-1", new VolumeConnector("compute-1", "127.0.0.2", "iqn.x")))
                .isEqualTo(connection);
    }

    @Test
    void anAgentReadsAHeartbeatReplyWithUnknownFields() {
        HeartbeatReply reply = new HeartbeatReply("compute-1", 500, Map.of(IMAGE.id(),
                new HeartbeatReply.Placement("placed", 1, List.of(new Portal("source", "127.0.0.1:3260", "iqn.2026-01.dev.virtman:source.5d0f1c2b3a4e5f60")), true)));
        ObjectNode json = newer(reply);
        ObjectNode placement = (ObjectNode) json.get("images").get(IMAGE.id());
        placement.put("bandwidthHintMbps", 800);
        ((ObjectNode) placement.get("parents").get(0)).put("rack", "a");
        serve("POST /v1/hosts/compute-1/heartbeat", 200, json);

        assertThat(client.heartbeat("compute-1", new HeartbeatRequest("compute-1", Map.of()))).isEqualTo(reply);
    }

    @Test
    void anErrorBodyWithUnknownFieldsStillYieldsTheManagersMessage() {
        serve("GET /v1/volumes/gone", 404,
                "{\"error\":\"no volume gone\",\"code\":\"NOT_FOUND\",\"retryAfterSeconds\":null}");

        assertThatThrownBy(() -> client.volume("gone")).isInstanceOfSatisfying(ManagerClientException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.getMessage()).isEqualTo("no volume gone (HTTP 404)");
        });
    }

    @Test
    void leniencyStopsAtUnknownFields() {
        serve("GET /v1/images/broken", 200, "{\"id\": ");
        serve("GET /v1/images/wrong-type", 200, "{\"id\":\"x\",\"sizeBytes\":\"big\"}");
        serve("GET /v1/images/two", 200, "{\"id\":\"x\"} {\"id\":\"y\"}");

        for (String name : List.of("broken", "wrong-type", "two")) {
            assertThatThrownBy(() -> client.image(name)).as(name)
                    .isInstanceOfSatisfying(ManagerClientException.class,
                            e -> assertThat(e.getMessage()).startsWith("unreadable reply from manager"));
        }
    }

    @Test
    void theManagerStillRejectsUnknownRequestFields() {
        byte[] typo = "{\"id\":\"vol-1\",\"imgae\":\"debian-12\",\"sizeBytes\":0}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Json.parse(typo, CreateVolumeRequest.class))
                .isInstanceOfSatisfying(ManagerException.class, e -> {
                    assertThat(e.reason()).isEqualTo(ManagerException.Reason.INVALID);
                    assertThat(e.getMessage()).startsWith("unknown field 'imgae'");
                });
    }
}
