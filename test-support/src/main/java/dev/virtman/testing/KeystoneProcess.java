package dev.virtman.testing;

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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private OpenStack Keystone (identity v3) for tests: Debian's python3-keystone run directly,
 * its {@code keystone-wsgi-public} script serving on a free loopback port (the script's own
 * single-threaded wsgiref server; enough for a test), with a config file, SQLite database and
 * Fernet key repositories in a temporary directory. {@code keystone-manage bootstrap} creates
 * the {@code admin} user in the {@code admin} project with the admin role, and the identity
 * endpoint at this instance's URL, which Glance's auth middleware looks up.
 */
public final class KeystoneProcess implements AutoCloseable {

    public static final String ADMIN = "admin";
    public static final String DOMAIN = "Default";
    /** keystone-manage steps run migrations and hash the bootstrap password; slow on a loaded machine. */
    private static final Duration MANAGE_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(250);
    private static final int CREATED = 201;

    private final Process process;
    private final Path dir;
    private final int port;
    private final String password;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private KeystoneProcess(final Process process, final Path dir, final int port, final String password) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.password = password;
    }

    /** Creates the database and keys, bootstraps the admin user, starts the server and waits for it. */
    public static KeystoneProcess start() {
        try {
            Path dir = Files.createTempDirectory("virtman-keystone-");
            int port = FreePorts.loopbackPort();
            String password = UUID.randomUUID().toString();
            Files.createDirectories(dir.resolve("fernet"));
            Files.createDirectories(dir.resolve("credential"));
            Path config = dir.resolve("keystone.conf");
            Files.writeString(config, """
                    [DEFAULT]
                    log_file = %1$s/keystone.log
                    use_stderr = false
                    [database]
                    connection = sqlite:///%1$s/keystone.sqlite
                    [identity]
                    # bcrypt's minimum cost: the default (12) makes bootstrap take a minute here
                    password_hash_rounds = 4
                    [token]
                    provider = fernet
                    [fernet_tokens]
                    key_repository = %1$s/fernet
                    [fernet_receipts]
                    key_repository = %1$s/fernet
                    [credential]
                    key_repository = %1$s/credential
                    """.formatted(dir));
            String user = System.getProperty("user.name");
            String url = "http://127.0.0.1:" + port + "/v3";
            manage(config, "db_sync");
            manage(config, "fernet_setup", "--keystone-user", user, "--keystone-group", user);
            manage(config, "credential_setup", "--keystone-user", user, "--keystone-group", user);
            manage(config, "bootstrap", "--bootstrap-password", password, "--bootstrap-username", ADMIN,
                    "--bootstrap-project-name", ADMIN, "--bootstrap-role-name", ADMIN,
                    "--bootstrap-public-url", url, "--bootstrap-internal-url", url, "--bootstrap-admin-url", url,
                    "--bootstrap-region-id", "RegionOne");
            ProcessBuilder builder = new ProcessBuilder("keystone-wsgi-public", "--host", "127.0.0.1",
                    "--port", Integer.toString(port))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("server.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            builder.environment().put("OS_KEYSTONE_CONFIG_FILES", config.toString());
            KeystoneProcess keystone = new KeystoneProcess(builder.start(), dir, port, password);
            try {
                keystone.awaitReady();
            } catch (RuntimeException e) {
                keystone.close();
                throw e;
            }
            return keystone;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Keystone (Debian package python3-keystone)", e);
        }
    }

    private static void manage(final Path config, final String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("keystone-manage", "--config-file", config.toString()));
        command.addAll(List.of(args));
        Commands.run(MANAGE_TIMEOUT, null, command).requireSuccess();
    }

    private void awaitReady() {
        HttpReadiness.await(http, process, "keystone", url().resolve("/v3"), READY_TIMEOUT, POLL, this::logText);
    }

    /** The identity endpoint's base, {@code http://127.0.0.1:PORT} ({@code /v3} below it). */
    public URI url() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public String adminPassword() {
        return password;
    }

    /** A project-scoped token for the admin user ({@code POST /v3/auth/tokens}). */
    public String issueAdminToken() {
        String body = """
                {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "%1$s",
                 "domain": {"name": "%2$s"}, "password": "%3$s"}}},
                 "scope": {"project": {"name": "%1$s", "domain": {"name": "%2$s"}}}}}"""
                .formatted(ADMIN, DOMAIN, password);
        HttpResponse<String> r = send(HttpRequest.newBuilder(url().resolve("/v3/auth/tokens"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
        if (r.statusCode() != CREATED) {
            throw new IllegalStateException("keystone refused the admin login: HTTP " + r.statusCode() + " " + r.body());
        }
        return r.headers().firstValue("X-Subject-Token").orElseThrow();
    }

    /** Revokes {@code token} ({@code DELETE /v3/auth/tokens}): Glance rejects it from now on. */
    public void revoke(final String token) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(url().resolve("/v3/auth/tokens"))
                .header("X-Auth-Token", issueAdminToken()).header("X-Subject-Token", token).DELETE());
        if (r.statusCode() != 204) {
            throw new IllegalStateException("keystone did not revoke the token: HTTP " + r.statusCode() + " " + r.body());
        }
    }

    /**
     * The {@code [keystone_authtoken]} section a service (Glance) needs to validate tokens here,
     * logging in as the admin user. Validated tokens are not cached, so a revocation shows at once.
     */
    public String authtokenConfig() {
        return """
                [keystone_authtoken]
                www_authenticate_uri = %1$s
                auth_url = %1$s
                auth_type = password
                interface = public
                username = %2$s
                password = %3$s
                project_name = %2$s
                user_domain_name = %4$s
                project_domain_name = %4$s
                token_cache_time = -1
                """.formatted(url(), ADMIN, password, DOMAIN);
    }

    private HttpResponse<String> send(final HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofMinutes(1)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    public String logText() {
        StringBuilder sb = new StringBuilder();
        for (String log : List.of("server.log", "keystone.log")) {
            try {
                sb.append("--- ").append(log).append('\n').append(Commands.tail(Files.readString(dir.resolve(log))));
            } catch (IOException e) {
                sb.append("--- ").append(log).append(": ").append(e.getMessage()).append('\n');
            }
        }
        return sb.toString();
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
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp directory does not affect other tests
        }
    }
}
