package dev.virtman.manager.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.testing.Await;
import com.sun.net.httpserver.HttpServer;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.AgentStreamProtocol;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Portal;
import dev.virtman.manager.client.AgentSession;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent stream end to end over real WebSockets: replies to reports, liveness from pings
 * alone, parent lists pushed when a parent fails (no report needed), a silent stream failing its
 * host, and clear errors between mismatched versions.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AgentStreamTest {

    private static final Duration INTERVAL = Duration.ofMillis(300);
    private static final Duration TIMEOUT = Duration.ofMillis(1500);

    @TempDir
    Path tmp;
    ManagerServer server;
    ManagerClient client;
    String image;
    final Map<String, HeartbeatReply> latest = new ConcurrentHashMap<>();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start() throws Exception {
        ManagerConfig config = ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(1, 1, 8))
                .withHeartbeat(INTERVAL, TIMEOUT);
        server = ManagerServer.start(config);
        client = new ManagerClient(server.url(), server.token());
        image = client.registerImage("base", RandomFiles.write(tmp.resolve("disk.raw"), 4 * 4096, 1).toString()).id();
    }

    private AgentSession session(final String host) {
        client.registerHost(host, "127.0.0." + (2 + host.charAt(1) - '0') + ":3260", null);
        return new AgentSession(client, host, reply -> latest.put(host, reply), TIMEOUT, Duration.ofSeconds(10), null);
    }

    private HeartbeatRequest report() {
        return new HeartbeatRequest(null, Map.of(image, new HeartbeatRequest.ImageReport(0)), null, null);
    }

    private List<String> parents(final String host) {
        HeartbeatReply r = latest.get(host);
        return r == null || r.images().get(image) == null ? List.of()
                : r.images().get(image).parents().stream().map(Portal::hostId).toList();
    }

    @Test
    void pingsKeepHostsAliveAndParentChangesArePushed() throws Exception {
        start();
        // Fan-out 1: a chain h0 <- h1 <- h2.
        AgentSession h0 = session("h0");
        AgentSession h1 = session("h1");
        AgentSession h2 = session("h2");
        for (AgentSession s : List.of(h0, h1, h2)) {
            s.tick(report());
            String host = s == h0 ? "h0" : s == h1 ? "h1" : "h2";
            awaitTrue(() -> latest.containsKey(host), host + " answered");
        }
        assertThat(parents("h2")).containsExactly("h1", "h0", null);
        long reportsBefore = reports();

        // Pings only, for several timeouts: nobody is failed.
        Thread pinger = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                h0.tick(report());
                h2.tick(report());
                if (!Thread.currentThread().isInterrupted()) {
                    h1.tick(report());
                }
                try {
                    Thread.sleep(INTERVAL.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long until = System.nanoTime() + 3 * TIMEOUT.toNanos();
        awaitTrue(() -> System.nanoTime() > until, "three timeouts of pings");
        assertThat(client.hosts()).allSatisfy(h -> assertThat(h.state()).isEqualTo("alive"));
        assertThat(reports()).as("unchanged reports are not resent").isEqualTo(reportsBefore);
        pinger.interrupt();
        pinger.join();

        // h1 goes silent (its stream stays open but sends nothing): the manager fails it and
        // pushes h2 its new parent list without h2 sending anything but pings.
        Thread others = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                h0.tick(report());
                h2.tick(report());
                try {
                    Thread.sleep(INTERVAL.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        awaitTrue(() -> parents("h2").equals(java.util.Arrays.asList("h0", null)), "h2 re-parented to h0");
        assertThat(client.host("h1").state()).isEqualTo("failed");
        assertThat(reports()).isEqualTo(reportsBefore);
        others.interrupt();
        others.join();
        h0.close();
        h1.close();
        h2.close();
    }

    @Test
    void newAgentAgainstAManagerWithoutStreamsGetsAClearError() throws Exception {
        // What an older manager answers for an unknown endpoint.
        HttpServer old = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        old.createContext("/", ex -> {
            byte[] body = "{\"error\":\"no such endpoint\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(404, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        old.start();
        try {
            ManagerClient toOld = new ManagerClient(URI.create("http://127.0.0.1:" + old.getAddress().getPort()), "t");
            AgentSession s = new AgentSession(toOld, "h1", r -> { }, TIMEOUT, Duration.ofSeconds(10), null);
            assertThatThrownBy(() -> s.tick(new HeartbeatRequest(null, Map.of(), null, null)))
                    .isInstanceOf(ManagerClientException.class)
                    .hasMessageContaining("older than this agent").hasMessageContaining("HTTP 404");
        } finally {
            old.stop(0);
        }
    }

    @Test
    void streamsWithoutTheProtocolOrTokenAreRefused() throws Exception {
        start();
        client.registerHost("h1", "127.0.0.3:3260", null);
        HttpClient http = HttpClient.newHttpClient();
        URI ws = URI.create("ws" + server.url().toString().substring(4) + AgentStreamProtocol.path("h1"));
        assertThatThrownBy(() -> http.newWebSocketBuilder().header("Authorization", "Bearer " + server.token())
                .buildAsync(ws, new java.net.http.WebSocket.Listener() { }).join())
                .hasRootCauseMessage("Unexpected HTTP response status code 400");
        assertThatThrownBy(() -> http.newWebSocketBuilder().subprotocols(AgentStreamProtocol.SUBPROTOCOL)
                .buildAsync(ws, new java.net.http.WebSocket.Listener() { }).join())
                .hasRootCauseMessage("Unexpected HTTP response status code 401");
        // An old agent's one-shot heartbeat still works against this manager.
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/hosts/h1/heartbeat"))
                .header("Authorization", "Bearer " + server.token()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"images\":{}}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
    }

    private long reports() throws Exception {
        HttpResponse<String> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                .header("Authorization", "Bearer " + server.token()).build(), HttpResponse.BodyHandlers.ofString());
        return m.body().lines().filter(l -> l.startsWith("virtman_stream_reports_total"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static void awaitTrue(final BooleanSupplier condition, final String what) throws InterruptedException {
        Await.until(condition, Duration.ofSeconds(60), what);
    }
}
