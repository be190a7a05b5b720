package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.block.manifest.ChunkManifest;
import dev.virtman.block.manifest.ManifestFormat;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST API end to end over real HTTP on an ephemeral port, with the real SQLite store. */
class ManagerApiTest {

    static final int CHUNK = 4096;
    static final String SOURCE_PORTAL = "127.0.0.1:3260";

    @TempDir
    Path tmp;
    Path image;
    ManagerServer server;
    ManagerClient client;

    static ManagerConfig config(final Path stateDir, final TreeLimits limits) {
        return ManagerConfig.defaults(new StateDir(stateDir))
                .withImageDirs(List.of(stateDir.getParent()))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLimits(limits)
                .withSource(SOURCE_PORTAL, Locality.UNKNOWN)
                .withChunkSize(CHUNK);
    }

    @BeforeEach
    void start() throws IOException {
        image = RandomFiles.write(tmp.resolve("disk.raw"), 10 * CHUNK + 100, 1);
        server = ManagerServer.start(config(tmp.resolve("state"), new TreeLimits(2, 2, 8)));
        client = new ManagerClient(server.url(), server.token());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> raw(final String method, final String path, final String body, final String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HeartbeatRequest serving(final String imageId, final long chunks) {
        return new HeartbeatRequest(null, Map.of(imageId, new HeartbeatRequest.ImageReport(chunks)));
    }

    @Test
    void healthNeedsNoTokenButEverythingElseDoes() throws Exception {
        assertThat(raw("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
        HttpResponse<String> none = raw("GET", "/v1/images", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.body()).contains("\"error\"").contains("missing bearer token");
        assertThat(raw("GET", "/v1/images", null, "wrong").statusCode()).isEqualTo(401);
        assertThat(raw("GET", "/metrics", null, null).statusCode()).isEqualTo(401);
        assertThat(raw("GET", "/v1/images", null, server.token()).statusCode()).isEqualTo(200);
        assertThatThrownBy(() -> new ManagerClient(server.url(), "nope").images())
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("rejected the token");
    }

    @Test
    void tokenFileIsPrivate() throws IOException {
        Path token = tmp.resolve("state").resolve(StateDir.TOKEN);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(token))).isEqualTo("rw-------");
        assertThat(Files.readString(token).strip()).isEqualTo(server.token()).hasSizeGreaterThanOrEqualTo(43);
    }

    @Test
    void registersImagesAndHostsAndHandsOutParentLists() throws IOException {
        ImageView img = client.registerImage("base", image.toString());
        assertThat(img.chunkCount()).isEqualTo(11);
        assertThat(img.sizeBytes()).isEqualTo(10 * CHUNK + 100);
        assertThat(img.id()).hasSize(64).isEqualTo(img.manifestDigest());
        assertThat(Path.of(img.manifestRef())).exists();
        ChunkManifest manifest = ManifestFormat.decode(client.manifest(img.id().substring(0, 8)));
        assertThat(manifest.imageIdHex()).isEqualTo(img.id());
        assertThat(manifest.chunkCount()).isEqualTo(11);
        assertThat(client.images()).extracting(ImageView::id).containsExactly(img.id());
        assertThat(client.image("base").id()).isEqualTo(img.id());

        for (int i = 0; i < 7; i++) {
            client.registerHost("h" + i, "127.0.0." + (i + 2) + ":3260", new Labels("r" + (i % 2), "z0"));
        }
        for (int i = 0; i < 7; i++) {
            client.heartbeat("h" + i, serving(img.id(), 0));
        }
        TreeView tree = client.tree(img.id());
        assertThat(tree.nodes()).hasSize(7);
        assertThat(tree.depth()).isEqualTo(3);
        for (TreeView.Node n : tree.nodes()) {
            assertThat(n.children().size()).isLessThanOrEqualTo(2);
        }
        // Parent list = ancestors up to the source, with portals and IQNs.
        HeartbeatReply reply = client.heartbeat("h6", serving(img.id(), 3));
        HeartbeatReply.Placement p = reply.images().get(img.id());
        assertThat(p.status()).isEqualTo("placed");
        assertThat(p.parents()).hasSize(p.depth());
        Portal last = p.parents().getLast();
        assertThat(last.hostId()).isNull();
        assertThat(last.portal()).isEqualTo(SOURCE_PORTAL);
        assertThat(last.iqn()).isEqualTo(TargetNames.sourceIqn(img.id()));
        Portal parent = p.parents().getFirst();
        String expectedParent = tree.nodes().stream().filter(n -> n.hostId().equals("h6")).findFirst().orElseThrow().parent();
        assertThat(parent.hostId()).isEqualTo(expectedParent);
        assertThat(parent.iqn()).isEqualTo(TargetNames.agentIqn(expectedParent, img.id()));
        assertThat(reply.heartbeatIntervalMillis()).isEqualTo(2000);

        List<HostView> hosts = client.hosts();
        assertThat(hosts).hasSize(7).allMatch(h -> h.state().equals("alive") && h.images().equals(List.of(img.id())));
    }

    @Test
    void prefersParentsInTheSameRack() {
        ImageView img = client.registerImage("base", image.toString());
        String[] racks = {"a", "b", "a", "b", "b", "a"};
        for (int i = 0; i < racks.length; i++) {
            client.registerHost("h" + i, "127.0.1." + (i + 2) + ":3260", new Labels(racks[i], "z"));
            client.heartbeat("h" + i, serving(img.id(), 0));
        }
        TreeView tree = client.tree(img.id());
        for (TreeView.Node n : tree.nodes()) {
            if (n.parent() != null) {
                String parentRack = tree.nodes().stream().filter(m -> m.hostId().equals(n.parent())).findFirst()
                        .orElseThrow().rack();
                assertThat(parentRack).as(n.hostId()).isEqualTo(n.rack());
            }
        }
    }

    @Test
    void rejectsBadRequestsWithClearErrorsAndChangesNothing() throws Exception {
        String t = server.token();
        ImageView img = client.registerImage("base", image.toString());
        HttpResponse<String> malformed = raw("POST", "/v1/images", "{\"name\": ", t);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).startsWith("{\"error\":").contains("malformed JSON");
        HttpResponse<String> typo = raw("POST", "/v1/images", "{\"nmae\":\"x\",\"path\":\"/x\"}", t);
        assertThat(typo.statusCode()).isEqualTo(422);
        assertThat(typo.body()).contains("unknown field 'nmae'");
        assertThat(raw("POST", "/v1/images", "{\"path\":\"" + image + "\"}", t).statusCode()).isEqualTo(422);
        assertThat(raw("POST", "/v1/images", "[1,2]", t).statusCode()).isEqualTo(422);
        assertThat(raw("POST", "/v1/images", "", t).statusCode()).isEqualTo(400);
        assertThat(raw("DELETE", "/v1/images", null, t).statusCode()).isEqualTo(405);
        assertThat(raw("GET", "/v2/images", null, t).statusCode()).isEqualTo(404);

        assertThatThrownBy(() -> client.image("nope")).isInstanceOfSatisfying(ManagerClientException.class,
                e -> assertThat(e.status()).isEqualTo(404));
        assertThatThrownBy(() -> client.registerImage("base", image.toString()))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.getMessage()).contains("already exists");
                });
        assertThatThrownBy(() -> client.registerImage("copy", image.toString()))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.getMessage()).contains("identical content");
                });
        assertThatThrownBy(() -> client.registerImage("rel", "disk.raw")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> client.registerImage("gone", tmp.resolve("missing").toString()))
                .hasMessageContaining("not a readable regular file");
        assertThatThrownBy(() -> client.registerImage("bad name!", image.toString())).hasMessageContaining("HTTP 422");
        assertThat(client.images()).hasSize(1);

        assertThatThrownBy(() -> client.registerHost("UPPER", "127.0.0.2:3260", null)).hasMessageContaining("iSCSI name");
        assertThatThrownBy(() -> client.registerHost("h1", "127.0.0.2", null)).hasMessageContaining("ip:port");
        assertThatThrownBy(() -> client.registerHost("h1", "127.0.0.2:99999", null)).hasMessageContaining("port");
        assertThatThrownBy(() -> client.heartbeat("ghost", serving(img.id(), 0)))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(404));
        assertThat(client.hosts()).isEmpty();

        client.registerHost("h1", "127.0.0.2:3260", null);
        client.heartbeat("h1", serving(img.id(), 1));
        TreeView before = client.tree(img.id());
        // Negative count: rejected, and h1 does not leave the tree as an empty image map would make it.
        assertThat(raw("POST", "/v1/hosts/h1/heartbeat", "{\"images\":{\"" + img.id() + "\":{\"chunksPresent\":-1}}}", t)
                .statusCode()).isEqualTo(422);
        assertThat(raw("POST", "/v1/hosts/h1/heartbeat", "{\"hostId\":\"h2\",\"images\":{}}", t).statusCode())
                .isEqualTo(422);
        assertThat(client.tree(img.id())).isEqualTo(before);
        assertThat(raw("POST", "/v1/failure-reports", "{\"reporter\":\"h1\",\"failedHostId\":\"h1\"}", t).statusCode())
                .isEqualTo(422);
        assertThat(raw("POST", "/v1/images", "{\"name\":\"x\",\"path\":\"/x\"}".repeat(1), t).statusCode()).isEqualTo(422);
        HttpResponse<String> wrongType = raw("PUT", "/v1/images/base/profile", "{\"chunks\":\"many\"}", t);
        assertThat(wrongType.statusCode()).isEqualTo(422);
        assertThat(wrongType.body()).contains("chunks");
    }

    @Test
    void oversizedBodyIsRefused() throws Exception {
        String big = "{\"name\":\"" + "x".repeat(ServerSettings.DEFAULT_MAX_BODY_BYTES) + "\"}";
        // Expect: 100-continue, as curl sends for large bodies: the manager refuses on the declared length
        // before any body byte; without it the client may still be writing when the 413 closes the socket.
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + "/v1/images"))
                .expectContinue(true)
                .header("Authorization", "Bearer " + server.token())
                .POST(HttpRequest.BodyPublishers.ofString(big))
                .build();
        assertThat(HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(413);
    }

    @Test
    void bootProfileFirstWriterWinsUnlessForced() {
        ImageView img = client.registerImage("base", image.toString());
        assertThatThrownBy(() -> client.profile(img.id())).hasMessageContaining("no boot profile");
        BootProfileView p = client.putProfile(img.id(), List.of(0, 5, 1, 2), "h1", false);
        assertThat(p.chunks()).containsExactly(0, 5, 1, 2);
        assertThatThrownBy(() -> client.putProfile(img.id(), List.of(3), "h2", false))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThatThrownBy(() -> client.putProfile(img.id(), List.of(0, 11), "h2", true)).hasMessageContaining("outside");
        assertThatThrownBy(() -> client.putProfile(img.id(), List.of(1, 1), "h2", true)).hasMessageContaining("twice");
        assertThat(client.profile("base").chunks()).containsExactly(0, 5, 1, 2);
        assertThat(client.putProfile(img.id(), List.of(3), "h2", true).recordedBy()).isEqualTo("h2");
        assertThat(client.image(img.id()).hasBootProfile()).isTrue();
        client.registerHost("h1", "127.0.0.2:3260", null);
        assertThat(client.heartbeat("h1", serving(img.id(), 0)).images().get(img.id()).bootProfile()).isTrue();
    }

    /** Issue 18, item 4: a short profile (a boot that failed after its first read) is replaced by a longer one. */
    @Test
    void aLongerBootProfileReplacesAShorterOneWithoutForce() {
        ImageView img = client.registerImage("base", image.toString());
        client.putProfile(img.id(), List.of(0), "failed-boot", false);
        BootProfileView better = client.putProfile(img.id(), List.of(0, 5, 1, 2), "good-boot", false);
        assertThat(better.chunks()).containsExactly(0, 5, 1, 2);
        assertThatThrownBy(() -> client.putProfile(img.id(), List.of(7, 3, 4, 6), "same-length", false))
                .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThat(client.profile("base").recordedBy()).isEqualTo("good-boot");
    }

    @Test
    void removingAnImageDropsItsTreeAndProfile() {
        ImageView img = client.registerImage("base", image.toString());
        client.registerHost("h1", "127.0.0.2:3260", null);
        client.heartbeat("h1", serving(img.id(), 0));
        client.putProfile(img.id(), List.of(1), null, false);
        client.removeImage("base");
        assertThat(client.images()).isEmpty();
        assertThat(Path.of(img.manifestRef())).doesNotExist();
        assertThatThrownBy(() -> client.tree(img.id())).hasMessageContaining("HTTP 404");
        HeartbeatReply reply = client.heartbeat("h1", serving(img.id(), 0));
        assertThat(reply.images().get(img.id()).status()).isEqualTo("unknown-image");
        // Same content can be registered again afterwards.
        assertThat(client.registerImage("again", image.toString()).id()).isEqualTo(img.id());
        assertThat(client.tree(img.id()).nodes()).isEmpty();
    }

    @Test
    void severalImagesEachGetTheirOwnTree() throws IOException {
        ImageView a = client.registerImage("a", image.toString());
        ImageView b = client.registerImage("b", RandomFiles.write(tmp.resolve("b.raw"), 3 * CHUNK, 2).toString());
        for (int i = 0; i < 5; i++) {
            client.registerHost("h" + i, "127.0.0." + (i + 2) + ":3260", null);
        }
        for (int i = 4; i >= 0; i--) {
            client.heartbeat("h" + i, new HeartbeatRequest("h" + i, i % 2 == 0
                    ? Map.of(a.id(), new HeartbeatRequest.ImageReport(0), b.id(), new HeartbeatRequest.ImageReport(0))
                    : Map.of(a.id(), new HeartbeatRequest.ImageReport(0))));
        }
        assertThat(client.tree("a").nodes()).hasSize(5);
        assertThat(client.tree("b").nodes()).extracting(TreeView.Node::hostId).containsExactlyInAnyOrder("h0", "h2", "h4");
        // Leaving an image: stop listing it.
        client.heartbeat("h2", serving(a.id(), 0));
        assertThat(client.tree("b").nodes()).extracting(TreeView.Node::hostId).containsExactlyInAnyOrder("h0", "h4");
    }

    @Test
    void metricsExposeHostsAndTreeDepth() throws Exception {
        ImageView img = client.registerImage("base", image.toString());
        client.registerHost("h1", "127.0.0.2:3260", null);
        client.heartbeat("h1", serving(img.id(), 0));
        String text = raw("GET", "/metrics", null, server.token()).body();
        assertThat(text).contains("virtman_hosts_alive 1.0").contains("virtman_tree_depth{image=\"" + img.id() + "\"} 1.0")
                .contains("virtman_reparent_events_total 0.0").contains("virtman_heartbeats_total 1.0");
    }

    @Test
    void clientExplainsAnUnreachableManager() {
        ManagerClient dead = new ManagerClient(URI.create("http://127.0.0.1:1"), "t", Duration.ofSeconds(2));
        assertThatThrownBy(dead::images).isInstanceOf(ManagerClientException.class)
                .hasMessageContaining("cannot reach the manager").hasMessageContaining("running");
    }
}
