package dev.virtman.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's Prometheus scrapes the manager (with its admin token, from a file) and every agent of
 * a namespace cluster ({@code scripts/netns-cluster}); the shipped rules pass
 * {@code promtool check rules}, every panel query of the shipped Grafana dashboard returns data
 * from that Prometheus, and killing an agent raises {@code VirtmanAgentDown}.
 */
@Tag("interop")
class PrometheusDashboardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SHIPPED = ProjectPaths.root().resolve("packaging/prometheus");
    private static final int HOSTS = 3;

    @TempDir
    Path work;

    private final String id = "p" + (ProcessHandle.current().pid() % 100000);
    private Process prometheus;

    @AfterEach
    void down() throws Exception {
        if (prometheus != null) {
            prometheus.destroyForcibly();
        }
        Harness.run(Duration.ofMinutes(2), "down", id);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyDashboardPanelQueryReturnsDataFromARealPrometheus() throws Exception {
        assertThat(run(Duration.ofMinutes(1), "promtool", "check", "rules",
                SHIPPED.resolve("virtman.rules.yml").toString())).contains("SUCCESS");

        Path image = work.resolve("image.raw");
        byte[] bytes = new byte[16 << 20];
        new Random(7).nextBytes(bytes);
        Files.write(image, bytes);
        Map<String, String> env = Harness.env(Harness.run(Duration.ofMinutes(8), "up", id, "--hosts", "" + HOSTS,
                "--image", image.toString(), "--name", "img"));

        List<String> agents = new ArrayList<>();
        for (int i = 1; i <= HOSTS; i++) {
            agents.add("\"10.77.0." + (10 + i) + ":9273\"");
        }
        Path config = work.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files: ["%s"]
                scrape_configs:
                  - job_name: virtman-manager
                    authorization:
                      credentials_file: %s
                    static_configs:
                      - targets: ["10.77.0.1:7070"]
                  - job_name: virtman-agent
                    static_configs:
                      - targets: [%s]
                """.formatted(SHIPPED.resolve("virtman.rules.yml"), env.get("VMNC_TOKEN_FILE"), String.join(", ", agents)));
        assertThat(run(Duration.ofMinutes(1), "promtool", "check", "config", config.toString())).contains("SUCCESS");
        prometheus = new ProcessBuilder(Harness.command("exec", id, "m", "--", "prometheus",
                "--config.file=" + config, "--storage.tsdb.path=" + work.resolve("tsdb"),
                "--web.listen-address=10.77.0.1:9090"))
                .redirectErrorStream(true).redirectOutput(work.resolve("prometheus.log").toFile()).start();

        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : JSON.readTree(SHIPPED.resolve("grafana-virtman.json").toFile()).get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                queries.put(panel.get("title").asText(), target.get("expr").asText());
            }
        }
        assertThat(queries).hasSizeGreaterThanOrEqualTo(10);
        Map<String, JsonNode> last = new LinkedHashMap<>();
        Harness.await("every panel query returns data " + last, Duration.ofMinutes(3), () -> {
            boolean all = true;
            for (Map.Entry<String, String> q : queries.entrySet()) {
                JsonNode result = query(q.getValue());
                last.put(q.getKey(), result);
                all &= result != null && !result.isEmpty();
            }
            return all ? Boolean.TRUE : null;
        }, ok -> ok);
        JsonNode up = query("virtman:agents_up:sum");
        assertThat(up.get(0).get("value").get(1).asDouble()).as("every agent scraped").isEqualTo(HOSTS);

        // An agent killed: the alert rule sees it (pending for its 1 minute, then firing).
        Harness.run(Duration.ofSeconds(30), "kill-agent", id, "h2", "KILL");
        Harness.await("VirtmanAgentDown raised", Duration.ofMinutes(2), () -> {
            JsonNode alerts = api("/api/v1/alerts");
            if (alerts == null) {
                return null;
            }
            for (JsonNode a : alerts.get("data").get("alerts")) {
                if (a.get("labels").get("alertname").asText().equals("VirtmanAgentDown")
                        && a.get("labels").path("instance").asText().equals("10.77.0.12:9273")) {
                    return Boolean.TRUE;
                }
            }
            return null;
        }, ok -> ok);
    }

    private JsonNode query(final String expr) {
        JsonNode reply = api("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        if (reply == null || !"success".equals(reply.path("status").asText())) {
            return null;
        }
        return reply.get("data").get("result");
    }

    private JsonNode api(final String path) {
        try {
            return JSON.readTree(Harness.run(Duration.ofSeconds(30), "http", id, "10.77.0.1:9090", path));
        } catch (Exception | AssertionError e) {
            return null; // Prometheus still starting
        }
    }

    private static String run(final Duration limit, final String... command) throws IOException, InterruptedException {
        return Harness.process(limit, List.of(command));
    }
}
