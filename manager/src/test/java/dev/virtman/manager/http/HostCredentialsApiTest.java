package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostCredentialView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials by role over real HTTP (issue 12, "one admin token is shared by every compute node
 * and also returns any volume's CHAP secret"): each host enrols and gets its own token, which
 * acts only as that host; the enrolment token only enrols; only hashes of host tokens are stored.
 */
class HostCredentialsApiTest {

    @TempDir
    Path tmp;
    ManagerServer server;
    ManagerClient admin;
    String tokenA;
    String tokenB;

    @BeforeEach
    void start() throws IOException {
        server = ManagerServer.start(ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8)));
        admin = new ManagerClient(server.url(), server.token());
        Path image = tmp.resolve("disk.img");
        RandomFiles.write(image, 16 * ManagerApiTest.CHUNK, 3);
        admin.registerImage("disk", image.toString());
        ManagerClient enroller = new ManagerClient(server.url(), server.enrolmentToken());
        tokenA = enroller.enrol("compute-a").token();
        tokenB = enroller.enrol("compute-b").token();
        as(tokenA).registerHost("compute-a", "127.0.0.21:3260", Labels.NONE);
        as(tokenB).registerHost("compute-b", "127.0.0.22:3260", Labels.NONE);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private ManagerClient as(final String token) {
        return new ManagerClient(server.url(), token);
    }

    @Test
    void aHostTokenActsAsItsHostAndNothingElse() throws Exception {
        assertThat(tokenA).isNotEqualTo(tokenB).isNotEqualTo(server.token()).startsWith("vmh.");
        String imageId = admin.image("disk").id();
        HeartbeatRequest joinA = new HeartbeatRequest("compute-a", Map.of(imageId, new HeartbeatRequest.ImageReport(0)),
                List.of(), List.of());
        assertThat(as(tokenA).heartbeat("compute-a", joinA).images().get(imageId).status()).isEqualTo("placed");
        assertThat(as(tokenA).image("disk").id()).isEqualTo(imageId);
        assertThat(as(tokenA).manifest(imageId)).isNotEmpty();
        assertThat(as(tokenA).host("compute-a").hostId()).isEqualTo("compute-a");
        assertThat(as(tokenA).hostVms("compute-a").hostId()).isEqualTo("compute-a");
        assertThat(as(tokenA).putProfile(imageId, List.of(0, 1), "compute-a", false).chunks()).containsExactly(0, 1);

        // Everything that is another host's or the admin's: 403, whatever the body says.
        String other = "compute-b";
        String heartbeatB = "{\"hostId\":\"compute-b\",\"images\":{}}";
        assertThat(raw(tokenA, "POST", "/v1/hosts/" + other + "/heartbeat", heartbeatB)).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/hosts", "{\"hostId\":\"compute-b\",\"address\":\"127.0.0.9:3260\"}"))
                .isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/v1/hosts/" + other, null)).isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/v1/hosts/" + other + "/vms", null)).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/hosts/" + other + "/vm-sync", "{\"vms\":[]}")).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/hosts/" + other + "/credential", null)).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/failure-reports", "{\"reporter\":\"compute-b\",\"failedHostId\":\"compute-a\"}"))
                .isEqualTo(403);
        assertThat(raw(tokenA, "PUT", "/v1/images/disk/profile?force=true", "{\"chunks\":[2],\"recordedBy\":\"compute-a\"}"))
                .isEqualTo(403);
        assertThat(raw(tokenA, "PUT", "/v1/images/disk/profile", "{\"chunks\":[2],\"recordedBy\":\"compute-b\"}"))
                .isEqualTo(403);
        // Admin-only: images, trees, volumes, VM orders, host list and removal, metrics.
        assertThat(raw(tokenA, "POST", "/v1/images", "{\"name\":\"x\",\"path\":\"/etc/hostname\"}")).isEqualTo(403);
        assertThat(raw(tokenA, "DELETE", "/v1/images/disk", null)).isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/v1/images/disk/tree", null)).isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/v1/hosts", null)).isEqualTo(403);
        assertThat(raw(tokenA, "DELETE", "/v1/hosts/" + other, null)).isEqualTo(403);
        assertThat(raw(tokenA, "DELETE", "/v1/hosts/compute-a", null)).isEqualTo(403);
        assertThat(raw(tokenA, "PUT", "/v1/hosts/compute-a/vms/vm1", "{\"imageId\":\"disk\"}")).isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/v1/volumes", null)).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/volumes", "{\"image\":\"disk\"}")).isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/metrics", null)).isEqualTo(403);
        assertThat(admin.host(other).hostId()).as("B untouched").isEqualTo(other);
        assertThat(admin.hosts()).hasSize(2);
    }

    @Test
    void aHostReadsOnlyItsOwnVolumesSecrets() throws Exception {
        admin.createVolume(new CreateVolumeRequest("vol-b", null, "disk", null, 0));
        String secret = admin.connectVolume("vol-b", new VolumeConnector("compute-b", null, null)).authPassword();
        HeartbeatRequest empty = new HeartbeatRequest(null, Map.of(), List.of(), List.of());
        HeartbeatReply b = as(tokenB).heartbeat("compute-b", empty);
        assertThat(b.volumes()).singleElement().satisfies(v -> assertThat(v.chapSecret()).isEqualTo(secret));
        assertThat(as(tokenA).heartbeat("compute-a", empty).volumes()).isEmpty();
        // A's token cannot heartbeat as B, ask for B's volume's connection, nor read the volume.
        assertThat(raw(tokenA, "POST", "/v1/hosts/compute-b/heartbeat", "{}")).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/volumes/vol-b/connection", "{\"host\":\"compute-b\"}")).isEqualTo(403);
        assertThat(raw(tokenA, "POST", "/v1/volumes/vol-b/connection", "{\"host\":\"compute-a\"}")).isEqualTo(403);
        assertThat(raw(tokenA, "GET", "/v1/volumes/vol-b", null)).isEqualTo(403);
        assertThat(body(tokenA, "POST", "/v1/volumes/vol-b/connection", "{\"host\":\"compute-b\"}"))
                .doesNotContain(secret);
    }

    @Test
    void theEnrolmentTokenOnlyEnrolsNewHosts() throws Exception {
        String enrol = server.enrolmentToken();
        assertThat(raw(enrol, "GET", "/v1/images", null)).isEqualTo(403);
        assertThat(raw(enrol, "POST", "/v1/hosts/compute-a/heartbeat", "{}")).isEqualTo(403);
        assertThat(raw(enrol, "POST", "/v1/hosts", "{\"hostId\":\"new-1\",\"address\":\"127.0.0.9:3260\"}"))
                .isEqualTo(403);
        assertThat(raw(enrol, "POST", "/v1/hosts/compute-a/credential", null)).as("no takeover").isEqualTo(409);
        assertThat(as(tokenA).host("compute-a").hostId()).as("A's token still valid").isEqualTo("compute-a");
        assertThat(raw(enrol, "POST", "/v1/hosts/Bad_Id/credential", null)).isEqualTo(422);

        // The admin re-enrols (rotates): the old token stops working at once.
        HostCredentialView rotated = admin.enrol("compute-a");
        assertThat(rotated.token()).isNotEqualTo(tokenA);
        assertThat(raw(tokenA, "GET", "/v1/hosts/compute-a", null)).isEqualTo(401);
        assertThat(as(rotated.token()).host("compute-a").hostId()).isEqualTo("compute-a");

        // Removing a host revokes its credential.
        admin.removeHost("compute-b");
        assertThat(raw(tokenB, "GET", "/v1/hosts/compute-b", null)).isEqualTo(401);
        assertThat(raw("vmh.not-a-token", "GET", "/v1/images", null)).isEqualTo(401);
    }

    @Test
    void onlyHashesOfHostTokensAreStoredAndTheySurviveARestart() throws Exception {
        server.close();
        server = ManagerServer.start(ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8)));
        assertThat(as(tokenA).host("compute-a").hostId()).isEqualTo("compute-a");
        assertThat(raw(tokenA, "GET", "/v1/hosts/compute-b", null)).isEqualTo(403);
        byte[] hashA = java.security.MessageDigest.getInstance("SHA-256").digest(tokenA.getBytes(StandardCharsets.UTF_8));
        StringBuilder everything = new StringBuilder();
        try (var files = Files.walk(tmp.resolve("state"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                everything.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
        }
        assertThat(everything.toString()).doesNotContain(tokenA).doesNotContain(tokenB)
                .contains(HexFormat.of().formatHex(hashA));
    }

    @Test
    void aClientSaysWhatAForbiddenCallNeeds() {
        assertThatThrownBy(() -> as(tokenA).hosts()).isInstanceOf(ManagerClientException.class)
                .hasMessageContaining("host compute-a").hasMessageContaining("admin token")
                .satisfies(e -> assertThat(((ManagerClientException) e).status()).isEqualTo(403));
    }

    private int raw(final String token, final String method, final String path, final String body) throws Exception {
        return send(token, method, path, body).statusCode();
    }

    private String body(final String token, final String method, final String path, final String body) throws Exception {
        return send(token, method, path, body).body();
    }

    private HttpResponse<String> send(final String token, final String method, final String path, final String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
