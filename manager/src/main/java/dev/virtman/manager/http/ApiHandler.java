package dev.virtman.manager.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.virtman.manager.api.ApiToken;
import dev.virtman.manager.GlanceImports;
import dev.virtman.manager.Manager;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;
import dev.virtman.manager.VmBoard;
import dev.virtman.manager.api.BootProfileView;
import dev.virtman.manager.api.ErrorBody;
import dev.virtman.manager.api.FailureReport;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Json;
import dev.virtman.manager.api.RegisterHostRequest;
import dev.virtman.manager.api.RegisterImageRequest;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.volume.VolumeService;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.store.StoreException;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes REST requests to the {@link Manager}. Every error becomes a JSON body
 * {@code {"error": "..."}} with the status of its {@link Reason}; a request is authenticated
 * before its body is read.
 *
 * <pre>
 *   GET  /healthz                         (no auth)
 *   GET  /metrics                         Prometheus text
 *   GET|POST        /v1/images               POST: {name, path} | {path, glance} | {glanceImageId[, name]}
 *   GET|DELETE      /v1/images/{id}
 *   GET             /v1/images/{id}/manifest   chunk manifest (binary, ManifestFormat)
 *   GET             /v1/images/{id}/tree
 *   GET|PUT         /v1/images/{id}/profile[?force=true]
 *   GET|POST        /v1/hosts
 *   GET|DELETE      /v1/hosts/{id}
 *   POST            /v1/hosts/{id}/heartbeat
 *   GET             /v1/hosts/{id}/vms              VM orders and the agent's last report
 *   PUT|DELETE      /v1/hosts/{id}/vms/{name}       order a VM / order it destroyed
 *   POST            /v1/hosts/{id}/vm-sync          agent: report VMs, receive orders
 *   POST            /v1/failure-reports
 *   GET|POST        /v1/volumes
 *   GET|DELETE      /v1/volumes/{id}
 *   POST            /v1/volumes/{id}/connection   connector in, iSCSI properties out
 * </pre>
 */
final class ApiHandler implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);

    /** A boot profile of a 15 GB image in 64 KiB chunks is ~2 MB of JSON; nothing else is near. */
    static final int MAX_BODY_BYTES = 8 << 20;
    private static final String JSON = "application/json";
    private static final int OK = 200;
    private static final int CREATED = 201;
    private static final int NO_CONTENT = 204;

    private final Manager manager;
    private final ApiToken token;
    private final PrometheusMeterRegistry metrics;
    private final VolumeService volumes;
    /** Null when the manager has no Glance to import from. */
    private final GlanceImports glanceImports;
    /** Runs requests that take minutes (Glance imports) off the few request threads. */
    private final Executor longRequests;

    /** VM orders per host ({@code virtman boot --manager}) and the agents' VM reports. */
    private final VmBoard vms;

    ApiHandler(final Manager manager, final ApiToken token, final PrometheusMeterRegistry metrics,
               final VolumeService volumes, final GlanceImports glanceImports, final Executor longRequests,
               final VmBoard vms) {
        this.manager = manager;
        this.glanceImports = glanceImports;
        this.token = token;
        this.metrics = metrics;
        this.volumes = volumes;
        this.longRequests = longRequests;
        this.vms = vms;
    }

    /** A body sent as {@code application/octet-stream} instead of JSON. */
    private record Binary(byte[] bytes) { }

    /** A reply to send: status and JSON value (null for no body). */
    private record Reply(int status, Object body) {
        static Reply ok(final Object body) {
            return new Reply(OK, body);
        }
    }

    @Override
    public void handle(final HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        try {
            dispatch(exchange);
        } finally {
            Timer.builder("virtman.http.requests").description("REST requests, time in the handler")
                    .tag("endpoint", endpointOf(exchange.getRequestURI().getRawPath()))
                    .tag("status", Integer.toString(exchange.getResponseCode()))
                    .register(metrics).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    /** Low-cardinality endpoint label: ids replaced by placeholders. */
    private static String endpointOf(final String path) {
        List<String> seg = segments(path);
        if (seg.size() >= 3 && seg.get(0).equals("v1")) {
            String rest = seg.size() > 3 ? "/" + String.join("/", seg.subList(3, seg.size())) : "";
            return "/v1/" + seg.get(1) + "/{id}" + rest;
        }
        return seg.size() <= 2 ? "/" + String.join("/", seg) : "other";
    }

    private void dispatch(final HttpExchange exchange) throws IOException {
        boolean handedOff = false;
        try {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getRawPath();
            handedOff = answer(exchange, method, path, () -> {
                if (path.equals("/healthz")) {
                    requireMethod(method, "GET");
                    return Reply.ok(Map.of("status", "ok"));
                }
                authenticate(exchange);
                if (path.equals("/metrics")) {
                    requireMethod(method, "GET");
                    return new Reply(OK, new Text(metrics.scrape()));
                }
                return route(exchange, method, segments(path));
            });
        } finally {
            if (!handedOff) {
                exchange.close();
            }
        }
    }

    /**
     * Computes and sends a reply, mapping failures to error replies. A {@link Deferred} reply is
     * computed on {@link #longRequests} instead, which then answers and closes the exchange.
     *
     * @return true if the exchange was handed off (the caller must not close it)
     */
    private boolean answer(final HttpExchange exchange, final String method, final String path,
                           final ReplySource source) throws IOException {
        try {
            Reply reply = source.get();
            if (reply.body() instanceof Deferred deferred) {
                longRequests.execute(() -> {
                    try (exchange) {
                        answer(exchange, method, path, deferred.work());
                    } catch (IOException e) {
                        LOG.debug("{} {}: client went away: {}", method, path, e.getMessage());
                    }
                });
                return true;
            }
            if (reply.body() instanceof Text text) {
                sendText(exchange, text.text());
            } else {
                send(exchange, reply);
            }
        } catch (ManagerException e) {
            sendError(exchange, e.reason().httpStatus(), e.getMessage());
        } catch (StoreException e) {
            LOG.error("{} {}: state store failed", method, path, e);
            sendError(exchange, Reason.INTERNAL.httpStatus(), "state store failed, nothing changed: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("{} {}: unexpected failure", method, path, e);
            sendError(exchange, Reason.INTERNAL.httpStatus(), "internal error: " + e);
        }
        return false;
    }

    /** Work that computes a reply; may throw like a handler. */
    private interface ReplySource {
        Reply get() throws IOException;
    }

    /** A reply computed later, off the request threads (it may take minutes). */
    private record Deferred(ReplySource work) { }

    /** A plain-text body (the Prometheus scrape). */
    private record Text(String text) { }

    private Reply route(final HttpExchange ex, final String method, final List<String> seg) throws IOException {
        if (seg.size() < 2 || !seg.get(0).equals("v1")) {
            throw ManagerException.notFound("no such endpoint: " + ex.getRequestURI().getPath() + " (API is under /v1)");
        }
        String collection = seg.get(1);
        switch (collection) {
            case "images" -> {
                return images(ex, method, seg);
            }
            case "hosts" -> {
                return hosts(ex, method, seg);
            }
            case "volumes" -> {
                return volumes(ex, method, seg);
            }
            case "failure-reports" -> {
                if (seg.size() == 2) {
                    requireMethod(method, "POST");
                    FailureReport r = body(ex, FailureReport.class);
                    return Reply.ok(manager.reportFailure(r.reporter(), r.failedHostId()));
                }
            }
            default -> { }
        }
        throw ManagerException.notFound("no such endpoint: " + ex.getRequestURI().getPath());
    }

    private Reply images(final HttpExchange ex, final String method, final List<String> seg) throws IOException {
        if (seg.size() == 2) {
            requireMethod(method, "GET", "POST");
            if (method.equals("GET")) {
                return Reply.ok(manager.images());
            }
            RegisterImageRequest r = body(ex, RegisterImageRequest.class);
            if (r.glanceImageId() != null) {
                if (r.path() != null || r.glance() != null) {
                    throw ManagerException.invalid("glanceImageId asks the manager to import from its Glance;"
                            + " it excludes path and glance");
                }
                if (glanceImports == null) {
                    throw ManagerException.invalid("this manager imports from no Glance (start it with --glance-url)");
                }
                return new Reply(OK, new Deferred(() -> {
                    Manager.Registration reg = glanceImports.importImage(r.glanceImageId(), r.name());
                    return new Reply(reg.created() ? CREATED : OK, reg.image());
                }));
            }
            if (r.glance() != null) {
                GlanceOrigin o = r.glance();
                Manager.Registration reg = manager.registerGlanceImage(r.path(),
                        o.withVersion(o.series() != null ? o.series() : r.name(), 0));
                return new Reply(reg.created() ? CREATED : OK, reg.image());
            }
            return new Reply(CREATED, manager.registerImage(r.name(), r.path()));
        }
        String id = seg.get(2);
        if (seg.size() == 3) {
            requireMethod(method, "GET", "DELETE");
            if (method.equals("GET")) {
                return Reply.ok(manager.image(id));
            }
            if (volumes == null) {
                manager.removeImage(id);
            } else {
                volumes.removeImage(id);
            }
            return new Reply(NO_CONTENT, null);
        }
        if (seg.size() == 4 && seg.get(3).equals("manifest")) {
            requireMethod(method, "GET");
            return new Reply(OK, new Binary(manager.manifest(id)));
        }
        if (seg.size() == 4 && seg.get(3).equals("tree")) {
            requireMethod(method, "GET");
            return Reply.ok(manager.tree(id));
        }
        if (seg.size() == 4 && seg.get(3).equals("profile")) {
            requireMethod(method, "GET", "PUT");
            if (method.equals("GET")) {
                return Reply.ok(manager.profile(id));
            }
            boolean force = "true".equals(query(ex).get("force"));
            BootProfileView p = body(ex, BootProfileView.class);
            if (p.imageId() != null && !p.imageId().equals(id) && !p.imageId().equals(manager.image(id).id())) {
                throw ManagerException.invalid("imageId in body does not match the path");
            }
            boolean created = manager.putProfile(id, p.chunks(), p.recordedBy(), force);
            return new Reply(created ? CREATED : OK, manager.profile(id));
        }
        throw ManagerException.notFound("no such endpoint: " + ex.getRequestURI().getPath());
    }

    private Reply hosts(final HttpExchange ex, final String method, final List<String> seg) throws IOException {
        if (seg.size() == 2) {
            requireMethod(method, "GET", "POST");
            if (method.equals("GET")) {
                return Reply.ok(manager.hosts());
            }
            RegisterHostRequest r = body(ex, RegisterHostRequest.class);
            boolean created = manager.registerHost(r.hostId(), r.address(), r.labels());
            return new Reply(created ? CREATED : OK, manager.host(r.hostId()));
        }
        String id = seg.get(2);
        if (seg.size() == 3) {
            requireMethod(method, "GET", "DELETE");
            if (method.equals("GET")) {
                return Reply.ok(manager.host(id));
            }
            manager.removeHost(id);
            vms.forget(id);
            return new Reply(NO_CONTENT, null);
        }
        if (seg.size() == 4 && seg.get(3).equals("heartbeat")) {
            requireMethod(method, "POST");
            HeartbeatRequest request = body(ex, HeartbeatRequest.class);
            HeartbeatReply reply = manager.heartbeat(id, request);
            return Reply.ok(volumes == null ? reply : volumes.onHeartbeat(id, request, reply));
        }
        if (seg.size() == 4 && seg.get(3).equals("vm-sync")) {
            requireMethod(method, "POST");
            manager.host(id);
            return Reply.ok(vms.sync(id, body(ex, VmSyncRequest.class)));
        }
        if (seg.size() == 4 && seg.get(3).equals("vms")) {
            requireMethod(method, "GET");
            manager.host(id);
            return Reply.ok(vms.view(id));
        }
        if (seg.size() == 5 && seg.get(3).equals("vms")) {
            requireMethod(method, "PUT", "DELETE");
            manager.host(id);
            if (method.equals("DELETE")) {
                vms.destroy(id, seg.get(4));
                return new Reply(NO_CONTENT, null);
            }
            VmOrder order = body(ex, VmOrder.class);
            if (order.name() != null && !order.name().equals(seg.get(4))) {
                throw ManagerException.invalid("name in body does not match the path");
            }
            if (order.imageId() == null) {
                throw ManagerException.invalid("imageId is required");
            }
            VmOrder resolved = new VmOrder(seg.get(4), manager.image(order.imageId()).id(), order.kernel(),
                    order.initrd(), order.append(), order.memoryMiB(), order.upMarker(), order.timeoutSeconds(),
                    order.desired());
            boolean created = vms.order(id, resolved);
            return new Reply(created ? CREATED : OK, resolved);
        }
        throw ManagerException.notFound("no such endpoint: " + ex.getRequestURI().getPath());
    }

    private Reply volumes(final HttpExchange ex, final String method, final List<String> seg) throws IOException {
        if (volumes == null) {
            throw ManagerException.notFound("this manager has no volume service");
        }
        if (seg.size() == 2) {
            requireMethod(method, "GET", "POST");
            if (method.equals("GET")) {
                return Reply.ok(volumes.volumes());
            }
            return new Reply(CREATED, volumes.create(body(ex, CreateVolumeRequest.class)));
        }
        String id = seg.get(2);
        if (seg.size() == 3) {
            requireMethod(method, "GET", "DELETE");
            if (method.equals("GET")) {
                return Reply.ok(volumes.volume(id));
            }
            volumes.delete(id);
            return new Reply(NO_CONTENT, null);
        }
        if (seg.size() == 4 && seg.get(3).equals("connection")) {
            requireMethod(method, "POST");
            return Reply.ok(volumes.connect(id, body(ex, VolumeConnector.class)));
        }
        throw ManagerException.notFound("no such endpoint: " + ex.getRequestURI().getPath());
    }

    private void authenticate(final HttpExchange ex) {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        if (header == null) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            throw new ManagerException(Reason.UNAUTHORIZED,
                    "missing bearer token: send 'Authorization: Bearer <token>' (the token is in the manager's state directory)");
        }
        String presented = header.regionMatches(true, 0, "Bearer ", 0, "Bearer ".length())
                ? header.substring("Bearer ".length()).strip() : null;
        if (!token.matches(presented)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            throw new ManagerException(Reason.UNAUTHORIZED, "invalid bearer token");
        }
    }

    private static <T> T body(final HttpExchange ex, final Class<T> type) throws IOException {
        String contentType = ex.getRequestHeaders().getFirst("Content-Type");
        if (contentType != null && !contentType.toLowerCase().startsWith(JSON)) {
            throw new ManagerException(Reason.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be " + JSON + ", got " + contentType);
        }
        return Json.parse(readBounded(ex.getRequestBody()), type);
    }

    /** Reads at most {@link #MAX_BODY_BYTES}; a longer body is refused, not buffered. */
    private static byte[] readBounded(final InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES) {
            throw new ManagerException(Reason.TOO_LARGE, "request body exceeds " + MAX_BODY_BYTES + " bytes");
        }
        return body;
    }

    private static void requireMethod(final String method, final String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new ManagerException(Reason.METHOD_NOT_ALLOWED, "method " + method + " not allowed here; use "
                + String.join(" or ", allowed));
    }

    private static List<String> segments(final String rawPath) {
        return java.util.Arrays.stream(rawPath.split("/"))
                .filter(s -> !s.isEmpty())
                .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8))
                .toList();
    }

    private static Map<String, String> query(final HttpExchange ex) {
        String q = ex.getRequestURI().getRawQuery();
        Map<String, String> out = new java.util.HashMap<>();
        if (q != null) {
            for (String pair : q.split("&")) {
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.put(k, v);
            }
        }
        return out;
    }

    private static void send(final HttpExchange ex, final Reply reply) throws IOException {
        if (reply.body() == null) {
            ex.sendResponseHeaders(reply.status(), -1);
            return;
        }
        boolean binary = reply.body() instanceof Binary;
        byte[] bytes = binary ? ((Binary) reply.body()).bytes() : Json.write(reply.body());
        ex.getResponseHeaders().set("Content-Type", binary ? "application/octet-stream" : JSON);
        ex.sendResponseHeaders(reply.status(), bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sendText(final HttpExchange ex, final String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        ex.sendResponseHeaders(OK, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sendError(final HttpExchange ex, final int status, final String message) throws IOException {
        send(ex, new Reply(status, new ErrorBody(message)));
    }
}
