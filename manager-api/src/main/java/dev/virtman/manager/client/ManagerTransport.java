package dev.virtman.manager.client;

import com.fasterxml.jackson.databind.JavaType;
import dev.virtman.manager.api.ErrorBody;
import dev.virtman.manager.api.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The HTTP side of {@link ManagerClient}: one JSON request with the bearer token, errors turned
 * into {@link ManagerClientException}s that say what to do, and fail-over between the managers
 * of one cluster (the one in use moves on when it cannot be reached or answers 503).
 */
final class ManagerTransport {
    /** TCP connect and TLS handshake; a cold CLI JVM on a loaded host can take seconds for the latter. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final int FIRST_ERROR_STATUS = 400;
    private static final int UNAVAILABLE = 503;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ManagerClient.class);

    /** The managers this client may talk to, in the order given; {@link #current} is the one in use. */
    private final List<URI> bases;
    private volatile int current;
    private final String token;
    private final Duration requestTimeout;
    private final HttpClient http;

    /** {@code tls} may be null for the JVM's default trust. */
    ManagerTransport(final List<URI> bases, final String token, final Duration requestTimeout,
                     final javax.net.ssl.SSLContext tls) {
        if (bases.isEmpty()) {
            throw new IllegalArgumentException("no manager URL");
        }
        this.bases = bases.stream().map(b -> stripSlash(Objects.requireNonNull(b, "base"))).toList();
        this.token = Objects.requireNonNull(token, "token");
        this.requestTimeout = requestTimeout;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
        this.http = (tls == null ? builder : builder.sslContext(tls)).build();
    }

    /** The manager in use now (the first URL until one failed). */
    URI base() {
        return bases.get(current);
    }

    /** Every manager URL this client was given, in order. */
    List<URI> bases() {
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
    <T> T call(final String method, final String path, final Object body, final JavaType replyType) {
        return call(method, path, body, replyType, false);
    }

    <T> T call(final String method, final String path, final Object body, final JavaType replyType,
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
    <T> T call(final String method, final String path, final Object body, final JavaType replyType,
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
                        + "); pass --token-file FILE, set " + ManagerClient.ENV_TOKEN_FILE + ", or use the manager's --state-dir", null);
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
                + why + " (is 'virtman manager' running? set --manager or " + ManagerClient.ENV_MANAGER + ")", cause);
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

    private static URI stripSlash(final URI uri) {
        String s = uri.toString();
        return s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : uri;
    }
}
