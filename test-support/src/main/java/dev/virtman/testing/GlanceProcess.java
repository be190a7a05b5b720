package dev.virtman.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private OpenStack Glance image service for tests: Debian's {@code glance-api} (package
 * glance-api, 2:25.1.0 on bookworm) run directly, not through systemd, with its own config file
 * in a temporary directory:
 * <ul>
 *   <li>listens on 127.0.0.1 on a free port ({@code bind_port}), one process ({@code workers = 0});</li>
 *   <li>SQLite database, created with {@code glance-manage db_sync} once per JVM (it takes ~10 s)
 *       and copied for each instance;</li>
 *   <li>no Keystone: the paste pipeline {@code glance-api} (no {@code flavor}) puts an
 *       unauthenticated admin context on every request, Glance's "noauth" mode;</li>
 *   <li>a file store ({@code enabled_backends = fs:file}) in the temporary directory, so a test
 *       can corrupt a stored image ({@link #storedFile}) and Glance serves bytes that no longer
 *       match the hashes it recorded at upload.</li>
 * </ul>
 * Images are uploaded through the v2 API like any client does ({@link #upload}). {@link #close()}
 * stops the process (SIGTERM, then SIGKILL) and deletes the directory.
 */
public final class GlanceProcess implements AutoCloseable {

    private static final Duration DB_SYNC_TIMEOUT = Duration.ofMinutes(3);
    /** glance-api imports a large Python tree; on a loaded 2-core machine that alone took 40 s. */
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration POLL = Duration.ofMillis(250);
    private static final int START_ATTEMPTS = 3;
    private static final String PASTE_CONFIG = "/etc/glance/glance-api-paste.ini";
    private static final String STORE = "fs";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path syncedDatabase;
    private static GlanceProcess shared;

    private final Process process;
    private final Path dir;
    private final int port;
    /** Null in noauth mode. */
    private final KeystoneProcess keystone;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private GlanceProcess(final Process process, final Path dir, final int port, final KeystoneProcess keystone) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.keystone = keystone;
    }

    /**
     * One Glance for every test class in this JVM that only uploads and reads images (starting one
     * costs 10-60 s on a loaded machine). Stopped when the JVM exits; do not close it.
     */
    public static synchronized GlanceProcess shared() {
        if (shared == null || !shared.process.isAlive()) {
            GlanceProcess glance = start();
            Runtime.getRuntime().addShutdownHook(new Thread(glance::close, "glance-api-stop"));
            shared = glance;
        }
        return shared;
    }

    /** Starts glance-api in noauth mode and waits until it answers {@code GET /versions}. */
    public static GlanceProcess start() {
        return start(null);
    }

    /**
     * Starts glance-api behind {@code keystone} (paste flavor {@code keystone}: every API request
     * needs a valid token), or in noauth mode when it is null. The fixture's own requests
     * ({@link #upload}) log in as Keystone's admin.
     */
    public static GlanceProcess start(final KeystoneProcess keystone) {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            GlanceProcess glance = launch(FreePorts.loopbackPort(), keystone);
            try {
                glance.awaitReady();
                return glance;
            } catch (IllegalStateException e) {
                last = e; // e.g. another process took the port between the probe and the bind
                glance.close();
            }
        }
        throw last;
    }

    private static GlanceProcess launch(final int port, final KeystoneProcess keystone) {
        try {
            Path dir = Files.createTempDirectory("virtman-glance-");
            for (String sub : List.of("store", "staging", "tasks", "lock")) {
                Files.createDirectories(dir.resolve(sub));
            }
            Files.copy(database(), dir.resolve("glance.sqlite"));
            Path config = dir.resolve("glance-api.conf");
            Files.writeString(config, config(dir, port)
                    + (keystone == null ? "" : "flavor = keystone\n" + keystone.authtokenConfig()));
            Process process = new ProcessBuilder("glance-api", "--config-file", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            return new GlanceProcess(process, dir, port, keystone);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start glance-api (Debian package glance-api; scripts/install-deps)", e);
        }
    }

    /** glance-api.conf for an instance in {@code dir} on {@code port}; ends in [paste_deploy]. */
    private static String config(final Path dir, final int port) {
        return """
                [DEFAULT]
                bind_host = 127.0.0.1
                bind_port = %2$d
                workers = 0
                log_file = %1$s/glance-api.log
                use_stderr = false
                enabled_backends = %3$s:file
                [database]
                connection = sqlite:///%1$s/glance.sqlite
                [glance_store]
                default_backend = %3$s
                [%3$s]
                filesystem_store_datadir = %1$s/store
                [os_glance_staging_store]
                filesystem_store_datadir = %1$s/staging
                [os_glance_tasks_store]
                filesystem_store_datadir = %1$s/tasks
                [oslo_concurrency]
                lock_path = %1$s/lock
                [paste_deploy]
                config_file = %4$s
                """.formatted(dir, port, STORE, PASTE_CONFIG);
    }

    /** A Glance database at the current schema, made once per JVM with {@code glance-manage db_sync}. */
    private static synchronized Path database() throws IOException {
        if (syncedDatabase == null) {
            Path dir = Files.createTempDirectory("virtman-glance-db-");
            Path config = dir.resolve("glance-manage.conf");
            Files.writeString(config, "[DEFAULT]\nlog_file = " + dir.resolve("db_sync.log") + "\nuse_stderr = false\n"
                    + "[database]\nconnection = sqlite:///" + dir.resolve("glance.sqlite") + "\n");
            Commands.run(DB_SYNC_TIMEOUT, null, List.of("glance-manage", "--config-file", config.toString(), "db_sync"))
                    .requireSuccess();
            syncedDatabase = dir.resolve("glance.sqlite");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
        }
        return syncedDatabase;
    }

    private void awaitReady() {
        HttpReadiness.await(http, process, "glance-api", url().resolve("/versions"), READY_TIMEOUT, POLL, this::logText);
    }

    /** Glance's endpoint, {@code http://127.0.0.1:PORT}. */
    public URI url() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /**
     * Uploads {@code file} as a new image the way a client does ({@code POST /v2/images}, then
     * {@code PUT /v2/images/{id}/file}); Glance hashes it (sha512 {@code os_hash_value}, md5
     * {@code checksum}) and makes it active.
     *
     * @return the new image's id
     */
    public String upload(final String name, final String diskFormat, final Path file) {
        ObjectNode create = JSON.createObjectNode()
                .put("name", name).put("disk_format", diskFormat).put("container_format", "bare");
        JsonNode created = json(send(HttpRequest.newBuilder(url().resolve("/v2/images"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(create.toString())), 201));
        String id = created.path("id").asText();
        try {
            send(HttpRequest.newBuilder(url().resolve("/v2/images/" + id + "/file"))
                    .header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofFile(file)), 204);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return id;
    }

    /** {@code GET /v2/images/{id}}: Glance's whole record of an image, as JSON. */
    public JsonNode image(final String id) {
        return json(send(HttpRequest.newBuilder(url().resolve("/v2/images/" + id)).GET(), 200));
    }

    /** {@code DELETE /v2/images/{id}}. */
    public void delete(final String id) {
        send(HttpRequest.newBuilder(url().resolve("/v2/images/" + id)).DELETE(), 204);
    }

    /** Where the file store keeps an image's data: writing to it corrupts what Glance serves. */
    public Path storedFile(final String id) {
        return dir.resolve("store").resolve(id);
    }

    public String logText() {
        StringBuilder sb = new StringBuilder();
        for (String log : List.of("stdout.log", "glance-api.log")) {
            try {
                sb.append("--- ").append(log).append('\n').append(Commands.tail(Files.readString(dir.resolve(log))));
            } catch (IOException e) {
                sb.append("--- ").append(log).append(": ").append(e.getMessage()).append('\n');
            }
        }
        return sb.toString();
    }

    private HttpResponse<String> send(final HttpRequest.Builder request, final int expectedStatus) {
        if (keystone != null) {
            request.header("X-Auth-Token", keystone.issueAdminToken());
        }
        try {
            HttpResponse<String> r = http.send(request.timeout(REQUEST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != expectedStatus) {
                throw new IllegalStateException(r.request().method() + " " + r.uri() + ": HTTP " + r.statusCode()
                        + " (expected " + expectedStatus + "): " + r.body() + "\n" + logText());
            }
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static JsonNode json(final HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteTree(dir);
    }

    private static void deleteTree(final Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory does not affect other tests
        }
    }

    @Override
    public String toString() {
        return "glance-api(pid " + process.pid() + ", " + url() + ")";
    }
}
