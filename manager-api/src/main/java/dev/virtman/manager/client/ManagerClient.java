package dev.virtman.manager.client;

import com.fasterxml.jackson.databind.JavaType;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.ClusterView;
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
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

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
    /** Environment variable naming the PEM file of the CA certificates an https:// manager is checked against. */
    public static final String ENV_CA_FILE = "VIRTMAN_CA_FILE";
    /** Registering a large image hashes it before replying, so requests may take a while. */
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(10);

    private final ManagerTransport transport;
    /** Kept for {@link #withToken}: the same managers, trust and timeout under another credential. */
    private final List<URI> urls;
    private final Duration requestTimeout;
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

    /**
     * A client of several managers (one cluster: the same state and tokens behind each URL). It
     * talks to one at a time and moves to the next when that one cannot be reached or answers
     * 503 ({@link ManagerTransport#call}); {@code tls} may be null for the JVM's default trust.
     */
    public ManagerClient(final List<URI> bases, final String token, final Duration requestTimeout,
                         final javax.net.ssl.SSLContext tls) {
        this.transport = new ManagerTransport(bases, token, requestTimeout, tls);
        this.urls = List.copyOf(bases);
        this.requestTimeout = requestTimeout;
        this.tls = tls;
    }

    /** A client of several managers ({@link #ManagerClient(List, String, Duration, javax.net.ssl.SSLContext)}), default timeout. */
    public ManagerClient(final List<URI> bases, final String token, final javax.net.ssl.SSLContext tls) {
        this(bases, token, DEFAULT_REQUEST_TIMEOUT, tls);
    }

    /** A client of the same managers, with the same trust and timeout, acting with another token. */
    public ManagerClient withToken(final String otherToken) {
        return new ManagerClient(urls, otherToken, requestTimeout, tls);
    }

    /**
     * The TLS trust for {@code https://} managers: the CA certificates in {@code caFile}, else in
     * the file {@value #ENV_CA_FILE} names, else null (the JVM's default trust store).
     *
     * @throws ManagerClientException naming the file when it is not a readable PEM CA file
     */
    public static javax.net.ssl.SSLContext trust(final Path caFile) {
        return ManagerLocator.trust(caFile, System::getenv);
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
        return ManagerLocator.locate(manager, tokenFile, stateDir != null ? List.of(new StateDir(stateDir))
                : StateDir.clientSearchPath(System::getenv, Path.of(StateDir.SYSTEM_DIR)), System::getenv, caFile);
    }

    /**
     * {@code URL[,URL...]}: one or more manager URLs (several managers of one cluster), each
     * {@code http://host:port} or {@code https://host:port}.
     */
    public static List<URI> parseUrls(final String urls) {
        return ManagerLocator.parseUrls(urls);
    }

    /**
     * The token a client command uses: from {@code tokenFile}, else the file {@value #ENV_TOKEN_FILE}
     * names, else {@value #ENV_TOKEN}, else {@code fallbackFile} (null for none).
     *
     * @throws ManagerClientException naming where it looked
     */
    public static String tokenFrom(final Path tokenFile, final Path fallbackFile) {
        return ManagerLocator.tokenFrom(tokenFile, fallbackFile);
    }

    /** The manager in use now (the first URL until one failed). */
    public URI base() {
        return transport.base();
    }

    /** Every manager URL this client was given, in order. */
    public List<URI> bases() {
        return transport.bases();
    }

    /** Moves on from {@code failed} to the next manager URL ({@link ManagerTransport#failOver}). */
    URI failOver(final URI failed) {
        return transport.failOver(failed);
    }

    /** The HTTP client (shared by the agent streams this client opens). */
    HttpClient http() {
        return transport.http();
    }

    String token() {
        return transport.token();
    }

    /** The {@code ws://} or {@code wss://} URI of a host's agent stream on the manager {@code base}. */
    static URI streamUri(final URI base, final String hostId) {
        String scheme = "https".equalsIgnoreCase(base.getScheme()) ? "wss" : "ws";
        return URI.create(scheme + base.toString().substring(base.getScheme().length())
                + dev.virtman.manager.api.AgentStreamProtocol.path(enc(hostId)));
    }

    // ---------------------------------------------------------------- images

    public ImageView registerImage(final String name, final String path) {
        return transport.call("POST", "/v1/images", new RegisterImageRequest(name, path), type(ImageView.class));
    }

    /**
     * Registers a raw file downloaded and verified from Glance ({@code virtman image import}); the
     * manager returns the existing image if the same Glance image and data is already registered.
     */
    public ImageView registerGlanceImage(final String path, final GlanceOrigin origin) {
        return transport.call("POST", "/v1/images", new RegisterImageRequest(null, path, origin, null), type(ImageView.class));
    }

    /**
     * Asks the manager to import a Glance image from its own Glance ({@code --glance-url}), or to
     * return it if already imported. The download may take minutes: {@code timeout} bounds the wait.
     *
     * @param series name of the image's versions, or null to derive it from the Glance name
     */
    public ImageView importFromGlance(final String glanceImageId, final String series, final Duration timeout) {
        return transport.call("POST", "/v1/images", new RegisterImageRequest(series, null, null, glanceImageId),
                type(ImageView.class), false, timeout);
    }

    public List<ImageView> images() {
        return transport.call("GET", "/v1/images", null, listOf(ImageView.class));
    }

    public ImageView image(final String idOrName) {
        return transport.call("GET", "/v1/images/" + enc(idOrName), null, type(ImageView.class));
    }

    public void removeImage(final String idOrName) {
        transport.call("DELETE", "/v1/images/" + enc(idOrName), null, null);
    }

    /** The image's chunk manifest in ManifestFormat; the caller checks it hashes to the image id. */
    public byte[] manifest(final String idOrName) {
        return transport.call("GET", "/v1/images/" + enc(idOrName) + "/manifest", null, null, true);
    }

    public TreeView tree(final String idOrName) {
        return transport.call("GET", "/v1/images/" + enc(idOrName) + "/tree", null, type(TreeView.class));
    }

    public BootProfileView putProfile(final String idOrName, final List<Integer> chunks, final String recordedBy,
                                      final boolean force) {
        return transport.call("PUT", "/v1/images/" + enc(idOrName) + "/profile" + (force ? "?force=true" : ""),
                new BootProfileView(null, chunks, recordedBy, null), type(BootProfileView.class));
    }

    public BootProfileView profile(final String idOrName) {
        return transport.call("GET", "/v1/images/" + enc(idOrName) + "/profile", null, type(BootProfileView.class));
    }

    // ---------------------------------------------------------------- hosts

    /**
     * Enrols a host: the manager issues it its own token (this client must hold the enrolment
     * token or the admin token; an admin re-enrolling a host rotates its token).
     */
    public HostCredentialView enrol(final String hostId) {
        return transport.call("POST", "/v1/hosts/" + enc(hostId) + "/credential", null, type(HostCredentialView.class));
    }

    public HostView registerHost(final String hostId, final String address, final Labels labels) {
        return transport.call("POST", "/v1/hosts", new RegisterHostRequest(hostId, address, labels), type(HostView.class));
    }

    /** {@code GET /v1/cluster}: managers, leader, etcd endpoints' health. */
    public ClusterView cluster() {
        return transport.call("GET", "/v1/cluster", null, type(ClusterView.class));
    }

    public List<HostView> hosts() {
        return transport.call("GET", "/v1/hosts", null, listOf(HostView.class));
    }

    public HostView host(final String hostId) {
        return transport.call("GET", "/v1/hosts/" + enc(hostId), null, type(HostView.class));
    }

    public void removeHost(final String hostId) {
        transport.call("DELETE", "/v1/hosts/" + enc(hostId), null, null);
    }

    public HeartbeatReply heartbeat(final String hostId, final HeartbeatRequest request) {
        return transport.call("POST", "/v1/hosts/" + enc(hostId) + "/heartbeat", request, type(HeartbeatReply.class));
    }

    // ---------------------------------------------------------------- VMs on hosts

    /** Orders VM {@code order.name()} on {@code hostId} (running, stopped or destroyed); returns the stored order. */
    public VmOrder orderVm(final String hostId, final VmOrder order) {
        return transport.call("PUT", "/v1/hosts/" + enc(hostId) + "/vms/" + enc(order.name()), order, type(VmOrder.class));
    }

    /** Orders VM {@code name} on {@code hostId} destroyed; its agent removes it and its overlay. */
    public void destroyVm(final String hostId, final String name) {
        transport.call("DELETE", "/v1/hosts/" + enc(hostId) + "/vms/" + enc(name), null, null);
    }

    public HostVmsView hostVms(final String hostId) {
        return transport.call("GET", "/v1/hosts/" + enc(hostId) + "/vms", null, type(HostVmsView.class));
    }

    /** An agent's VM sync: its reports in, its orders out. */
    public VmSyncReply vmSync(final String hostId, final VmSyncRequest request) {
        return transport.call("POST", "/v1/hosts/" + enc(hostId) + "/vm-sync", request, type(VmSyncReply.class));
    }

    public FailureReportReply reportFailure(final String reporter, final String failedHostId) {
        return transport.call("POST", "/v1/failure-reports", new FailureReport(reporter, failedHostId),
                type(FailureReportReply.class));
    }

    // ---------------------------------------------------------------- volumes

    public VolumeView createVolume(final CreateVolumeRequest request) {
        return transport.call("POST", "/v1/volumes", request, type(VolumeView.class));
    }

    public List<VolumeView> volumes() {
        return transport.call("GET", "/v1/volumes", null, listOf(VolumeView.class));
    }

    public VolumeView volume(final String id) {
        return transport.call("GET", "/v1/volumes/" + enc(id), null, type(VolumeView.class));
    }

    public void deleteVolume(final String id) {
        transport.call("DELETE", "/v1/volumes/" + enc(id), null, null);
    }

    public VolumeConnection connectVolume(final String id, final VolumeConnector connector) {
        return transport.call("POST", "/v1/volumes/" + enc(id) + "/connection", connector, type(VolumeConnection.class));
    }

    // ---------------------------------------------------------------- helpers

    private static JavaType type(final Class<?> c) {
        return Json.REPLIES.getTypeFactory().constructType(c);
    }

    private static JavaType listOf(final Class<?> c) {
        return Json.REPLIES.getTypeFactory().constructCollectionType(List.class, c);
    }

    private static String enc(final String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
