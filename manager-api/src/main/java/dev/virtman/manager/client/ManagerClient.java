package dev.virtman.manager.client;

import com.fasterxml.jackson.databind.JavaType;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.api.ErrorBody;
import dev.virtman.manager.api.FailureReport;
import dev.virtman.manager.api.FailureReportReply;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostCredentialView;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.HostVmsView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Json;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.RegisterHostRequest;
import dev.virtman.manager.api.RegisterImageRequest;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.VolumeConnection;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.api.VolumeView;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmSyncReply;
import dev.virtman.manager.api.VmSyncRequest;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Java client of the manager's REST API, used by the CLI and by agents. Thread-safe.
 *
 * <p>Every failure is a {@link ManagerClientException} whose message says what to do: the
 * manager is not running, the token is wrong, or the manager's own error message for a refused
 * request.
 *
 * <p>Replies are read with {@link Json#REPLIES}: a field a newer manager added to a view is
 * skipped, so this client keeps working against it (requests stay strict on the manager side).
 */
public final class ManagerClient {

    /** Environment variable naming the manager URL. */
    public static final String ENV_MANAGER = "VIRTMAN_MANAGER";
    /** Environment variable holding the API token itself (the environment is not shown by {@code ps}). */
    public static final String ENV_TOKEN = "VIRTMAN_TOKEN";
    /** Environment variable naming a file that holds the API token. */
    public static final String ENV_TOKEN_FILE = "VIRTMAN_TOKEN_FILE";
    /** TCP connect and TLS handshake; a cold CLI JVM on a loaded host can take seconds for the latter. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Registering a large image hashes it before replying, so requests may take a while. */
    private static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(10);
    private static final int FIRST_ERROR_STATUS = 400;
    private static final int UNAVAILABLE = 503;
    /** A cluster has a handful of managers; a list longer than this is a mistake. */
    private static final int MAX_URLS = 16;
    /** Environment variable naming the PEM file of the CA certificates an https:// manager is checked against. */
    public static final String ENV_CA_FILE = "VIRTMAN_CA_FILE";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ManagerClient.class);

    /** The managers this client may talk to, in the order given; {@link #current} is the one in use. */
    private final List<URI> bases;
    private volatile int current;
    private final String token;
    private final Duration requestTimeout;
    private final HttpClient http;
    private final javax.net.ssl.SSLContext tls;

    public ManagerClient(final URI base, final String token) {
        this(base, token, DEFAULT_REQUEST_TIMEOUT);
    }

    public ManagerClient(final URI base, final String token, final Duration requestTimeout) {
        this(List.of(base), token, requestTimeout, null);
    }

    /**
     * A client of an {@code https://} manager whose certificate {@code tls} trusts (e.g.
     * {@link CaFiles#context} of the CA file).
     */
    public ManagerClient(final URI base, final String token, final Duration requestTimeout,
                         final javax.net.ssl.SSLContext tls) {
        this(List.of(base), token, requestTimeout, tls);
    }

    /** A client of several managers ({@link #ManagerClient(List, String, Duration, javax.net.ssl.SSLContext)}), default timeout. */
    public ManagerClient(final List<URI> bases, final String token, final javax.net.ssl.SSLContext tls) {
        this(bases, token, DEFAULT_REQUEST_TIMEOUT, tls);
    }

    /**
     * A client of several managers (one cluster: the same state and tokens behind each URL). It
     * talks to one at a time and moves to the next when that one cannot be reached or answers
     * 503 ({@link #call}); {@code tls} may be null for the JVM's default trust.
     */
    public ManagerClient(final List<URI> bases, final String token, final Duration requestTimeout,
                         final javax.net.ssl.SSLContext tls) {
        if (bases.isEmpty()) {
            throw new IllegalArgumentException("no manager URL");
        }
        this.bases = bases.stream().map(b -> stripSlash(Objects.requireNonNull(b, "base"))).toList();
        this.token = Objects.requireNonNull(token, "token");
        this.requestTimeout = requestTimeout;
        this.tls = tls;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
        this.http = (tls == null ? builder : builder.sslContext(tls)).build();
    }

    /**
     * Finds the manager: the URL from {@code manager}, else {@value #ENV_MANAGER}, else the URL a
     * local manager wrote to its state directory; the token from {@code tokenFile}, else the file
     * {@value #ENV_TOKEN_FILE} names, else {@value #ENV_TOKEN}, else the state directory's token
     * file. Never from the command line: every local user sees argv in {@code ps}.
     */
    public static ManagerClient locate(final String manager, final Path tokenFile, final Path stateDir) {
        return locate(manager, tokenFile, stateDir, null);
    }

    /**
     * As {@link #locate(String, Path, Path)}; {@code caFile} (else {@value #ENV_CA_FILE}) names
     * the PEM CA certificates an {@code https://} manager's certificate must chain to, null for
     * the JVM's default trust store.
     */
    public static ManagerClient locate(final String manager, final Path tokenFile, final Path stateDir,
                                       final Path caFile) {
        return locate(manager, tokenFile, stateDir != null ? List.of(new StateDir(stateDir))
                : StateDir.clientSearchPath(System::getenv, Path.of(StateDir.SYSTEM_DIR)), System::getenv, caFile);
    }

    static ManagerClient locate(final String manager, final Path tokenFile, final List<StateDir> search,
                                final java.util.function.UnaryOperator<String> env) {
        return locate(manager, tokenFile, search, env, null);
    }

    /**
     * As {@link #locate(String, Path, Path)}, with the state directories to search (the first
     * holding a {@code manager.url} gives the URL and the token) and the environment given.
     */
    static ManagerClient locate(final String manager, final Path tokenFile, final List<StateDir> search,
                                final java.util.function.UnaryOperator<String> env, final Path caFile) {
        StateDir dir = search.stream().filter(d -> Files.isRegularFile(d.url())).findFirst().orElse(search.getFirst());
        String url = firstNonBlank(manager, env.apply(ENV_MANAGER));
        if (url == null) {
            try {
                url = Files.readString(dir.url()).strip();
            } catch (IOException e) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "no manager URL: pass --manager URL, set "
                        + ENV_MANAGER + ", or name the manager's state directory with --state-dir DIR or "
                        + StateDir.ENV + " (no running manager has written "
                        + String.join(" or ", search.stream().map(d -> d.url().toString()).toList()) + ")", e);
            }
        }
        String secret = tokenFrom(tokenFile, dir.token());
        List<URI> uris = parseUrls(url);
        return new ManagerClient(uris, secret, DEFAULT_REQUEST_TIMEOUT, trust(caFile, env));
    }

    /**
     * The TLS trust for {@code https://} managers: the CA certificates in {@code caFile}, else in
     * the file {@value #ENV_CA_FILE} names, else null (the JVM's default trust store).
     *
     * @throws ManagerClientException naming the file when it is not a readable PEM CA file
     */
    public static javax.net.ssl.SSLContext trust(final Path caFile) {
        return trust(caFile, System::getenv);
    }

    static javax.net.ssl.SSLContext trust(final Path caFile, final java.util.function.UnaryOperator<String> env) {
        String ca = caFile != null ? caFile.toString() : firstNonBlank(env.apply(ENV_CA_FILE), null);
        if (ca == null) {
            return null;
        }
        try {
            return CaFiles.context(Path.of(ca));
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "cannot use the CA file " + ca + ": "
                    + e.getMessage(), e);
        }
    }

    /** A client of the same managers, with the same trust and timeout, acting with another token. */
    public ManagerClient withToken(final String otherToken) {
        return new ManagerClient(bases, otherToken, requestTimeout, tls);
    }

    /**
     * {@code URL[,URL...]}: one or more manager URLs (several managers of one cluster), each
     * {@code http://host:port} or {@code https://host:port}.
     */
    public static List<URI> parseUrls(final String urls) {
        List<URI> out = new java.util.ArrayList<>();
        for (String one : urls.split(",", -1)) {
            String url = one.strip();
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "invalid manager URL '" + url + "'", e);
            }
            if (uri.getScheme() == null || uri.getHost() == null
                    || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "invalid manager URL '" + url
                        + "' (expected http://host:port or https://host:port, several separated by commas)", null);
            }
            if (out.size() == MAX_URLS) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "more than " + MAX_URLS
                        + " manager URLs", null);
            }
            out.add(uri);
        }
        return out;
    }

    /**
     * The token a client command uses: from {@code tokenFile}, else the file {@value #ENV_TOKEN_FILE}
     * names, else {@value #ENV_TOKEN}, else {@code fallbackFile} (null for none).
     *
     * @throws ManagerClientException naming where it looked
     */
    public static String tokenFrom(final Path tokenFile, final Path fallbackFile) {
        String envFile = System.getenv(ENV_TOKEN_FILE);
        Path file = tokenFile != null ? tokenFile : envFile != null && !envFile.isBlank() ? Path.of(envFile) : null;
        String where = tokenFile != null ? "--token-file" : ENV_TOKEN_FILE;
        if (file == null) {
            String env = System.getenv(ENV_TOKEN);
            if (env != null && !env.isBlank()) {
                return env.strip();
            }
            if (fallbackFile == null) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "no API token: pass --token-file FILE"
                        + " or set " + ENV_TOKEN_FILE + " (or " + ENV_TOKEN + ")", null);
            }
            file = fallbackFile;
            where = "the state directory";
        }
        try {
            return TokenFiles.read(file);
        } catch (IOException e) {
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "no API token from " + where + ": "
                    + e.getMessage() + " (pass --token-file FILE or set " + ENV_TOKEN_FILE + " or " + ENV_TOKEN + ")", e);
        }
    }

    /** The manager in use now (the first URL until one failed). */
    public URI base() {
        return bases.get(current);
    }

    /** Every manager URL this client was given, in order. */
    public List<URI> bases() {
        return bases;
    }

    /**
     * Moves on from {@code failed} to the next manager URL (if {@code failed} is still the one in
     * use: concurrent callers that saw the same failure move on once). Returns the one now in use.
     */
    URI failOver(final URI failed) {
        synchronized (bases) {
            if (bases.get(current).equals(failed)) {
                current = (current + 1) % bases.size();
            }
            return bases.get(current);
        }
    }

    /** The HTTP client (shared by the agent streams this client opens). */
    HttpClient http() {
        return http;
    }

    String token() {
        return token;
    }

    /** The {@code ws://} or {@code wss://} URI of a host's agent stream on the manager {@code base}. */
    static URI streamUri(final URI base, final String hostId) {
        String scheme = "https".equalsIgnoreCase(base.getScheme()) ? "wss" : "ws";
        return URI.create(scheme + base.toString().substring(base.getScheme().length())
                + dev.virtman.manager.api.AgentStreamProtocol.path(enc(hostId)));
    }

    // ---------------------------------------------------------------- images

    public ImageView registerImage(final String name, final String path) {
        return call("POST", "/v1/images", new RegisterImageRequest(name, path), type(ImageView.class));
    }

    /**
     * Registers a raw file downloaded and verified from Glance ({@code virtman image import}); the
     * manager returns the existing image if the same Glance image and data is already registered.
     */
    public ImageView registerGlanceImage(final String path, final GlanceOrigin origin) {
        return call("POST", "/v1/images", new RegisterImageRequest(null, path, origin, null), type(ImageView.class));
    }

    /**
     * Asks the manager to import a Glance image from its own Glance ({@code --glance-url}), or to
     * return it if already imported. The download may take minutes: {@code timeout} bounds the wait.
     *
     * @param series name of the image's versions, or null to derive it from the Glance name
     */
    public ImageView importFromGlance(final String glanceImageId, final String series, final Duration timeout) {
        return call("POST", "/v1/images", new RegisterImageRequest(series, null, null, glanceImageId),
                type(ImageView.class), false, timeout);
    }

    public List<ImageView> images() {
        return call("GET", "/v1/images", null, listOf(ImageView.class));
    }

    public ImageView image(final String idOrName) {
        return call("GET", "/v1/images/" + enc(idOrName), null, type(ImageView.class));
    }

    public void removeImage(final String idOrName) {
        call("DELETE", "/v1/images/" + enc(idOrName), null, null);
    }

    /** The image's chunk manifest in ManifestFormat; the caller checks it hashes to the image id. */
    public byte[] manifest(final String idOrName) {
        return call("GET", "/v1/images/" + enc(idOrName) + "/manifest", null, null, true);
    }

    public TreeView tree(final String idOrName) {
        return call("GET", "/v1/images/" + enc(idOrName) + "/tree", null, type(TreeView.class));
    }

    public BootProfileView putProfile(final String idOrName, final List<Integer> chunks, final String recordedBy,
                                      final boolean force) {
        return call("PUT", "/v1/images/" + enc(idOrName) + "/profile" + (force ? "?force=true" : ""),
                new BootProfileView(null, chunks, recordedBy, null), type(BootProfileView.class));
    }

    public BootProfileView profile(final String idOrName) {
        return call("GET", "/v1/images/" + enc(idOrName) + "/profile", null, type(BootProfileView.class));
    }

    // ---------------------------------------------------------------- hosts

    /**
     * Enrols a host: the manager issues it its own token (this client must hold the enrolment
     * token or the admin token; an admin re-enrolling a host rotates its token).
     */
    public HostCredentialView enrol(final String hostId) {
        return call("POST", "/v1/hosts/" + enc(hostId) + "/credential", null, type(HostCredentialView.class));
    }

    public HostView registerHost(final String hostId, final String address, final Labels labels) {
        return call("POST", "/v1/hosts", new RegisterHostRequest(hostId, address, labels), type(HostView.class));
    }

    /** {@code GET /v1/cluster}: managers, leader, etcd endpoints' health. */
    public ClusterView cluster() {
        return call("GET", "/v1/cluster", null, type(ClusterView.class));
    }

    public List<HostView> hosts() {
        return call("GET", "/v1/hosts", null, listOf(HostView.class));
    }

    public HostView host(final String hostId) {
        return call("GET", "/v1/hosts/" + enc(hostId), null, type(HostView.class));
    }

    public void removeHost(final String hostId) {
        call("DELETE", "/v1/hosts/" + enc(hostId), null, null);
    }

    public HeartbeatReply heartbeat(final String hostId, final HeartbeatRequest request) {
        return call("POST", "/v1/hosts/" + enc(hostId) + "/heartbeat", request, type(HeartbeatReply.class));
    }

    // ---------------------------------------------------------------- VMs on hosts

    /** Orders VM {@code order.name()} on {@code hostId} (running, stopped or destroyed); returns the stored order. */
    public VmOrder orderVm(final String hostId, final VmOrder order) {
        return call("PUT", "/v1/hosts/" + enc(hostId) + "/vms/" + enc(order.name()), order, type(VmOrder.class));
    }

    /** Orders VM {@code name} on {@code hostId} destroyed; its agent removes it and its overlay. */
    public void destroyVm(final String hostId, final String name) {
        call("DELETE", "/v1/hosts/" + enc(hostId) + "/vms/" + enc(name), null, null);
    }

    public HostVmsView hostVms(final String hostId) {
        return call("GET", "/v1/hosts/" + enc(hostId) + "/vms", null, type(HostVmsView.class));
    }

    /** An agent's VM sync: its reports in, its orders out. */
    public VmSyncReply vmSync(final String hostId, final VmSyncRequest request) {
        return call("POST", "/v1/hosts/" + enc(hostId) + "/vm-sync", request, type(VmSyncReply.class));
    }

    public FailureReportReply reportFailure(final String reporter, final String failedHostId) {
        return call("POST", "/v1/failure-reports", new FailureReport(reporter, failedHostId),
                type(FailureReportReply.class));
    }

    // ---------------------------------------------------------------- volumes

    public VolumeView createVolume(final CreateVolumeRequest request) {
        return call("POST", "/v1/volumes", request, type(VolumeView.class));
    }

    public List<VolumeView> volumes() {
        return call("GET", "/v1/volumes", null, listOf(VolumeView.class));
    }

    public VolumeView volume(final String id) {
        return call("GET", "/v1/volumes/" + enc(id), null, type(VolumeView.class));
    }

    public void deleteVolume(final String id) {
        call("DELETE", "/v1/volumes/" + enc(id), null, null);
    }

    public VolumeConnection connectVolume(final String id, final VolumeConnector connector) {
        return call("POST", "/v1/volumes/" + enc(id) + "/connection", connector, type(VolumeConnection.class));
    }

    // ---------------------------------------------------------------- transport

    private <T> T call(final String method, final String path, final Object body, final JavaType replyType) {
        return call(method, path, body, replyType, false);
    }

    private <T> T call(final String method, final String path, final Object body, final JavaType replyType,
                       final boolean binary) {
        return call(method, path, body, replyType, binary, requestTimeout);
    }

    /**
     * One request, failing over between the manager URLs: a manager that cannot be reached
     * (connection refused or timed out: the request was not sent) or answers 503 (unavailable,
     * e.g. a manager that lost its store or its leader) is left for the next URL, each tried at
     * most once per call. A connection that breaks after the request was sent fails over only
     * for GET, PUT and DELETE (idempotent); a POST then throws, since the manager may have
     * applied it, and the caller decides (agents simply retry on their next tick).
     */
    private <T> T call(final String method, final String path, final Object body, final JavaType replyType,
                       final boolean binary, final Duration timeout) {
        ManagerClientException last = null;
        for (int tries = 0; tries < bases.size(); tries++) {
            URI base = bases.get(current);
            try {
                return callOnce(base, method, path, body, replyType, binary, timeout);
            } catch (ManagerClientException e) {
                boolean unreachable = e.status() == ManagerClientException.NO_REPLY && e.notSent();
                boolean retrySafe = e.status() == ManagerClientException.NO_REPLY && !"POST".equals(method);
                if (bases.size() == 1 || Thread.currentThread().isInterrupted()
                        || !(unreachable || retrySafe || e.status() == UNAVAILABLE)) {
                    throw e;
                }
                last = e;
                URI next = failOver(base);
                LOG.warn("manager at {} failed ({}); trying {}", base, e.getMessage(), next);
            }
        }
        throw new ManagerClientException(last.status(), "no manager answered (" + bases.size() + " tried; last: "
                + last.getMessage() + ")", last);
    }

    @SuppressWarnings("unchecked")
    private <T> T callOnce(final URI base, final String method, final String path, final Object body,
                           final JavaType replyType, final boolean binary, final Duration timeout) {
        URI uri = URI.create(base + path);
        HttpRequest.Builder req = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        if (body != null) {
            req.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(Json.write(body)));
        } else {
            req.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpConnectTimeoutException e) {
            throw unreachable(base, "connection timed out", e).markNotSent();
        } catch (HttpTimeoutException e) {
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "manager at " + base
                    + " did not answer " + method + " " + path + " within " + timeout, e);
        } catch (ConnectException e) {
            throw unreachable(base, "connection refused", e).markNotSent();
        } catch (IOException e) {
            throw unreachable(base, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "interrupted", e);
        }
        int status = resp.statusCode();
        if (status >= FIRST_ERROR_STATUS) {
            String message = errorMessage(resp.body());
            if (status == 401) {
                throw new ManagerClientException(status, "manager at " + base + " rejected the token (401: " + message
                        + "); pass --token-file FILE, set " + ENV_TOKEN_FILE + ", or use the manager's --state-dir", null);
            }
            throw new ManagerClientException(status, message + " (HTTP " + status + ")", null);
        }
        if (binary) {
            return (T) resp.body();
        }
        if (replyType == null) {
            return null;
        }
        try {
            return Json.REPLIES.readValue(resp.body(), replyType);
        } catch (IOException e) {
            throw new ManagerClientException(status, "unreadable reply from manager: " + e.getMessage(), e);
        }
    }

    private static ManagerClientException unreachable(final URI base, final String why, final Throwable cause) {
        return new ManagerClientException(ManagerClientException.NO_REPLY, "cannot reach the manager at " + base + ": "
                + why + " (is 'virtman manager' running? set --manager or " + ENV_MANAGER + ")", cause);
    }

    private static String errorMessage(final byte[] body) {
        try {
            ErrorBody e = Json.REPLIES.readValue(body, ErrorBody.class);
            if (e != null && e.error() != null) {
                return e.error();
            }
        } catch (IOException ignored) {
            // Not our JSON (a proxy?): show the raw text below.
        }
        String raw = new String(body, StandardCharsets.UTF_8).strip();
        return raw.isEmpty() ? "no error message" : raw;
    }

    private static JavaType type(final Class<?> c) {
        return Json.REPLIES.getTypeFactory().constructType(c);
    }

    private static JavaType listOf(final Class<?> c) {
        return Json.REPLIES.getTypeFactory().constructCollectionType(List.class, c);
    }

    private static String enc(final String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static URI stripSlash(final URI uri) {
        String s = uri.toString();
        return s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : uri;
    }

    private static String firstNonBlank(final String a, final String b) {
        if (a != null && !a.isBlank()) {
            return a;
        }
        return b != null && !b.isBlank() ? b : null;
    }
}
