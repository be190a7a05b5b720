package dev.virtman.manager.http;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;
import dev.virtman.manager.api.ErrorBody;
import dev.virtman.manager.auth.Principal;
import dev.virtman.manager.api.Json;
import dev.virtman.manager.store.StoreException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's side of the REST API: authenticates a request from its headers, reads its body
 * without holding a thread, runs its {@link Routes route} on a request thread, and writes the
 * reply; every failure becomes a JSON body {@code {"error": "..."}} with its {@link Reason}'s
 * status.
 *
 * <p><b>Order matters.</b> The credential is checked before a single body byte is read, so an
 * anonymous client never makes the manager buffer anything. A request without a valid credential
 * (including {@code /healthz}) needs one of a few anonymous permits and gets 503 when none is
 * free: an anonymous flood is answered cheaply and never queues in front of agents. Bodies are
 * read asynchronously (the selector wakes the request when bytes arrive), so a client that sends
 * a body slowly holds a connection, not a thread.
 */
final class RestHandler extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(RestHandler.class);
    private static final String JSON = "application/json";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Routes routes;
    private final Authenticator authenticator;
    private final Semaphore anonymous;
    private final int maxBodyBytes;
    private final Executor requests;
    private final Executor longRequests;
    private final MeterRegistry metrics;

    /**
     * @param requests     runs routes once the body is in (the server's request threads)
     * @param longRequests runs {@link Reply.Deferred} work (minutes-long imports)
     */
    RestHandler(final Routes routes, final Authenticator authenticator, final ServerSettings settings,
                final Executor requests, final Executor longRequests, final MeterRegistry metrics) {
        super(InvocationType.BLOCKING);
        this.routes = routes;
        this.authenticator = authenticator;
        this.anonymous = new Semaphore(settings.anonymousConcurrency());
        this.maxBodyBytes = settings.maxBodyBytes();
        this.requests = requests;
        this.longRequests = longRequests;
        this.metrics = metrics;
    }

    @Override
    public boolean handle(final Request request, final Response response, final Callback callback) {
        long start = System.nanoTime();
        String method = request.getMethod();
        String rawPath = request.getHttpURI().getPath();
        Exchange ex = new Exchange(request, response, callback, start);
        if (rawPath.equals("/healthz")) {
            anonymously(ex, () -> {
                if (!method.equals("GET")) {
                    throw new ManagerException(Reason.METHOD_NOT_ALLOWED, "method " + method
                            + " not allowed here; use GET");
                }
                return Reply.ok(Map.of("status", "ok"));
            });
            return true;
        }
        Principal caller;
        try {
            caller = authenticator.authenticate(request.getHeaders().get(HttpHeader.AUTHORIZATION));
        } catch (ManagerException e) {
            anonymously(ex, () -> {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, request.getHeaders()
                        .get(HttpHeader.AUTHORIZATION) == null ? "Bearer" : "Bearer error=\"invalid_token\"");
                throw e;
            });
            return true;
        }
        Routes.Match match;
        try {
            match = routes.resolve(method, rawPath);
        } catch (ManagerException e) {
            ex.fail(e);
            return true;
        }
        ex.template = match.template();
        long declared = request.getLength();
        if (declared > maxBodyBytes) {
            ex.fail(new ManagerException(Reason.TOO_LARGE, "request body exceeds " + maxBodyBytes + " bytes"));
            return true;
        }
        Content.Source.asByteArrayAsync(request, maxBodyBytes + 1).whenCompleteAsync((body, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException) {
                    ex.fail(new ManagerException(Reason.TOO_LARGE, "request body exceeds " + maxBodyBytes + " bytes"));
                } else {
                    LOG.debug("{} {}: body not received: {}", method, rawPath, cause.toString());
                    callback.failed(cause);
                }
                return;
            }
            if (body.length > maxBodyBytes) {
                ex.fail(new ManagerException(Reason.TOO_LARGE, "request body exceeds " + maxBodyBytes + " bytes"));
                return;
            }
            Call call = new Call(method, Routes.decode(rawPath), match.params(), query(request), caller,
                    request.getHeaders().get(HttpHeader.CONTENT_TYPE), body);
            ex.answer(() -> match.route().handle(call));
        }, requests);
        return true;
    }

    /** Runs {@code work} under an anonymous permit, or answers 503 when none is free. */
    private void anonymously(final Exchange ex, final Reply.Work work) {
        if (!anonymous.tryAcquire()) {
            ex.fail(new ManagerException(Reason.UNAVAILABLE, "too many unauthenticated requests; retry later"));
            return;
        }
        try {
            ex.answer(work);
        } finally {
            anonymous.release();
        }
    }

    private static Map<String, String> query(final Request request) {
        Map<String, String> out = new HashMap<>();
        Fields fields = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        fields.forEach(f -> out.put(f.getName(), f.getValue()));
        return out;
    }

    /** One request being answered. */
    private final class Exchange {
        final Request request;
        final Response response;
        final Callback callback;
        final long start;
        String template = "other";

        Exchange(final Request request, final Response response, final Callback callback, final long start) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.start = start;
        }

        void answer(final Reply.Work work) {
            Reply reply;
            try {
                reply = work.get();
            } catch (Exception e) {
                fail(e);
                return;
            }
            if (reply.body() instanceof Reply.Deferred deferred) {
                longRequests.execute(() -> answer(deferred.work()));
                return;
            }
            send(reply);
        }

        void fail(final Exception e) {
            String method = request.getMethod();
            String path = request.getHttpURI().getPath();
            if (e instanceof ManagerException m) {
                send(new Reply(m.reason().httpStatus(), new ErrorBody(m.getMessage())));
            } else if (e instanceof StoreException s && s.unavailable()) {
                // etcd without quorum, or a follower asked to write: nothing changed, retry (elsewhere)
                send(new Reply(Reason.UNAVAILABLE.httpStatus(), new ErrorBody(e.getMessage())));
            } else if (e instanceof StoreException) {
                LOG.error("{} {}: state store failed", method, path, e);
                send(new Reply(Reason.INTERNAL.httpStatus(), new ErrorBody("state store failed, nothing changed: "
                        + e.getMessage())));
            } else {
                LOG.error("{} {}: unexpected failure", method, path, e);
                send(new Reply(Reason.INTERNAL.httpStatus(), new ErrorBody("internal error: " + e)));
            }
        }

        void send(final Reply reply) {
            response.setStatus(reply.status());
            Timer.builder("virtman.http.requests").description("REST requests, time in the handler")
                    .tag("endpoint", template).tag("status", Integer.toString(reply.status()))
                    .register(metrics).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            if (reply.body() == null) {
                callback.succeeded();
                return;
            }
            byte[] bytes;
            String type;
            if (reply.body() instanceof Reply.Binary b) {
                bytes = b.bytes();
                type = "application/octet-stream";
            } else if (reply.body() instanceof Reply.Text t) {
                bytes = t.text().getBytes(StandardCharsets.UTF_8);
                type = PROMETHEUS_TEXT;
            } else {
                bytes = Json.write(reply.body());
                type = JSON;
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
        }
    }
}
