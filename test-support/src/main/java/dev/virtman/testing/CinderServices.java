package dev.virtman.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A private OpenStack Cinder for tests: Debian's {@code cinder-api}, {@code cinder-scheduler} and
 * {@code cinder-volume} (packages of those names, 2:21.3.1 on bookworm) run directly, not through
 * systemd, over one config file in a temporary directory:
 * <ul>
 *   <li>SQLite database made with {@code cinder-manage db sync} once per JVM (about a minute on a
 *       loaded machine) and copied for each instance;</li>
 *   <li>{@code auth_strategy = noauth}: no Keystone, the API takes {@code X-Auth-Token: USER:PROJECT};</li>
 *   <li>RPC over a private {@link RabbitMqProcess} (Cinder's services need a real message bus);</li>
 *   <li>one backend, {@code [virtman]}, whose options the test passes (the VirtMan driver from
 *       {@code openstack/cinder}, found through {@code PYTHONPATH});</li>
 *   <li>the API on 127.0.0.1 on a free port; Glance at the URL the test passes.</li>
 * </ul>
 * {@link #close()} stops the three services and the broker and deletes the directory.
 */
public final class CinderServices implements AutoCloseable {
    public static final String BACKEND = "virtman";
    private static final Duration DB_SYNC_TIMEOUT = Duration.ofMinutes(5);
    /** Three Python services importing Cinder on a shared 2-core machine. */
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final String TOKEN = "admin:admin";
    private static final List<String> SERVICES = List.of("api", "scheduler", "volume");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path syncedDatabase;

    private final RabbitMqProcess rabbit;
    private final List<Process> processes;
    private final Path dir;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private CinderServices(final RabbitMqProcess rabbit, final List<Process> processes, final Path dir, final int port) {
        this.rabbit = rabbit;
        this.processes = processes;
        this.dir = dir;
        this.port = port;
    }

    /**
     * Starts the broker and the three services and waits until the scheduler knows the backend's
     * pool (the volume service initialised its driver and reported stats).
     *
     * @param glance     Glance's endpoint
     * @param backend    options of the {@code [virtman]} backend section (volume_driver etc.)
     * @param pythonPath where the driver package is
     */
    public static CinderServices start(final URI glance, final Map<String, String> backend, final Path pythonPath) {
        Path dir;
        try {
            dir = Files.createTempDirectory("virtman-cinder-");
            for (String sub : List.of("state", "lock")) {
                Files.createDirectories(dir.resolve(sub));
            }
            Files.copy(database(), dir.resolve("cinder.sqlite"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RabbitMqProcess rabbit = RabbitMqProcess.start();
        int port = FreePorts.loopbackPort();
        List<Process> processes = new ArrayList<>();
        CinderServices cinder = new CinderServices(rabbit, processes, dir, port);
        try {
            Path config = dir.resolve("cinder.conf");
            Files.writeString(config, config(dir, port, rabbit.transportUrl(), glance, backend));
            for (String service : SERVICES) {
                ProcessBuilder pb = new ProcessBuilder("cinder-" + service, "--config-file", config.toString(),
                        "--log-file", dir.resolve(service + ".log").toString())
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve(service + ".out").toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                pb.environment().put("PYTHONPATH", pythonPath.toAbsolutePath().toString());
                processes.add(pb.start());
            }
            cinder.awaitPool();
            return cinder;
        } catch (IOException e) {
            String log = cinder.logText();
            cinder.close();
            throw new UncheckedIOException("cannot start Cinder (Debian packages cinder-api cinder-scheduler "
                    + "cinder-volume; scripts/install-deps): " + log, e);
        } catch (RuntimeException e) {
            cinder.close();
            throw e;
        }
    }

    private static String config(final Path dir, final int port, final String transport, final URI glance,
                                 final Map<String, String> backend) {
        StringBuilder sb = new StringBuilder("""
                [DEFAULT]
                auth_strategy = noauth
                transport_url = %2$s
                state_path = %1$s/state
                use_stderr = false
                enabled_backends = %5$s
                glance_api_servers = %3$s
                my_ip = 127.0.0.1
                host = cinder-test
                osapi_volume_listen = 127.0.0.1
                osapi_volume_listen_port = %4$d
                osapi_volume_workers = 1
                # Publish driver stats every 2 s (default 60) so the scheduler knows the backend
                # soon after start. Service state reports stay at the default 10 s: each is a
                # write to the shared SQLite file.
                periodic_interval = 2
                [database]
                connection = sqlite:///%1$s/cinder.sqlite
                [oslo_concurrency]
                lock_path = %1$s/lock
                [%5$s]
                """.formatted(dir, transport, glance, port, BACKEND));
        backend.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }

    /** A Cinder database at the current schema, made once per JVM. */
    private static synchronized Path database() throws IOException {
        if (syncedDatabase == null) {
            Path dir = Files.createTempDirectory("virtman-cinder-db-");
            Path config = dir.resolve("cinder-manage.conf");
            Files.writeString(config, "[DEFAULT]\nlog_file = " + dir.resolve("db_sync.log") + "\nuse_stderr = false\n"
                    + "[database]\nconnection = sqlite:///" + dir.resolve("cinder.sqlite") + "\n");
            Commands.run(DB_SYNC_TIMEOUT, null, List.of("cinder-manage", "--config-file", config.toString(), "db", "sync"))
                    .requireSuccess();
            syncedDatabase = dir.resolve("cinder.sqlite");
            useWriteAheadLog(syncedDatabase);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
        }
        return syncedDatabase;
    }

    /**
     * Three services share one SQLite file. In its default rollback-journal mode a reader that
     * wants to write while another process writes gets "database is locked" at once (SQLite
     * does not wait, to avoid a deadlock); seen here as a 500 on POST /v3/volumes. The write-ahead
     * log lets readers and one writer proceed together. The mode is stored in the file, so
     * every copy has it.
     */
    private static void useWriteAheadLog(final Path database) throws IOException {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath());
             Statement st = db.createStatement()) {
            st.execute("PRAGMA journal_mode = WAL");
        } catch (SQLException e) {
            throw new IOException("cannot switch " + database + " to WAL: " + e.getMessage(), e);
        }
    }

    private void awaitPool() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < processes.size(); i++) {
                if (!processes.get(i).isAlive()) {
                    throw new IllegalStateException("cinder-" + SERVICES.get(i) + " exited with "
                            + processes.get(i).exitValue() + "; logs:\n" + logText());
                }
            }
            try {
                HttpResponse<String> r = http.send(request("/v3/scheduler-stats/get_pools").GET()
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && JSON.readTree(r.body()).path("pools").size() > 0) {
                    return;
                }
            } catch (IOException notYet) {
                // API not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            FreePorts.sleep(POLL);
        }
        throw new IllegalStateException("Cinder's scheduler did not see the " + BACKEND + " pool within "
                + READY_TIMEOUT + "; logs:\n" + logText());
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + port);
    }

    private HttpRequest.Builder request(final String path) {
        return HttpRequest.newBuilder(url().resolve(path)).header("X-Auth-Token", TOKEN)
                .header("Content-Type", "application/json").header("Accept", "application/json");
    }

    /** One Cinder API call; fails (with the services' logs) unless the status is {@code expected}. */
    public JsonNode call(final String method, final String path, final String body, final int expected) {
        HttpRequest.BodyPublisher publisher = body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
        try {
            HttpResponse<String> r = http.send(request(path).method(method, publisher).timeout(REQUEST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != expected) {
                throw new IllegalStateException(method + " " + path + ": HTTP " + r.statusCode() + " (expected "
                        + expected + "): " + r.body() + "\n" + logText());
            }
            return r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The HTTP status of {@code GET path}. */
    public int status(final String path) {
        try {
            return http.send(request(path).GET().timeout(REQUEST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Polls {@code GET /v3/volumes/{id}} until its status is {@code wanted}; fails on {@code error}. */
    public JsonNode awaitVolumeStatus(final String id, final String wanted, final Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode v = call("GET", "/v3/volumes/" + id, null, 200).path("volume");
            String status = v.path("status").asText();
            if (status.equals(wanted)) {
                return v;
            }
            if (status.startsWith("error") || System.nanoTime() > deadline) {
                throw new IllegalStateException("volume " + id + " is " + status + ", waited for " + wanted
                        + "; logs:\n" + logText());
            }
            FreePorts.sleep(POLL);
        }
    }

    public String logText() {
        StringBuilder sb = new StringBuilder();
        for (String s : SERVICES) {
            for (String suffix : List.of(".out", ".log")) {
                Path f = dir.resolve(s + suffix);
                try {
                    if (Files.exists(f)) {
                        sb.append("--- cinder-").append(s).append(suffix).append('\n')
                                .append(Commands.tail(Files.readString(f)));
                    }
                } catch (IOException e) {
                    sb.append("--- ").append(f).append(": ").append(e.getMessage()).append('\n');
                }
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (Process p : processes) {
            if (p.isAlive()) {
                Commands.killTree(p);
            }
        }
        rabbit.close();
        deleteTree(dir);
    }

    private static void deleteTree(final Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory does not affect other tests
        }
    }
}
