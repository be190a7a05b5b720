package dev.virtman.manager.client;

import dev.virtman.manager.api.AgentPush;
import dev.virtman.manager.api.AgentStreamProtocol;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent's end of its stream to the manager ({@link AgentStreamProtocol}), driven by
 * {@link #tick} once per heartbeat interval from one thread: connects (or reconnects), sends the
 * report when it differs from the last one sent, pings, and drops a stream on which nothing was
 * heard for the heartbeat timeout (a silent manager or a dead path) so the next tick reconnects.
 * Replies the manager pushes go to the reply consumer on the WebSocket's thread.
 *
 * <p>Chunk counts change all the time while a cache fills; a report that differs only in them is
 * sent at most every {@code countsRefresh}, so a booting fleet does not turn the stream back into a
 * heartbeat per interval. Any other difference (images, volumes) goes at once.
 */
public final class AgentSession implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentSession.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final ByteBuffer PING = ByteBuffer.allocate(0);

    private final ManagerClient client;
    private final String hostId;
    private final Consumer<HeartbeatReply> replies;
    private final Duration timeout;
    private final Duration countsRefresh;
    private final LongSupplier nanoClock;

    private volatile WebSocket socket;
    private volatile long lastHeard;
    private volatile long pingSentAt;
    private volatile long lastRoundTrip = -1;
    private volatile String lastError;
    private volatile boolean unknownHost;
    private HeartbeatRequest lastSent;
    private long lastSentAt;
    private final Consumer<Long> roundTrips;

    /**
     * @param replies       gets every reply the manager sends (on the WebSocket's thread)
     * @param timeout       silence after which the stream is dropped and reopened
     * @param countsRefresh longest delay of a report that differs only in chunk counts
     * @param roundTrips    gets each ping's round trip in nanoseconds (metrics, benchmarks)
     */
    public AgentSession(final ManagerClient client, final String hostId, final Consumer<HeartbeatReply> replies,
                        final Duration timeout, final Duration countsRefresh, final Consumer<Long> roundTrips) {
        this.client = Objects.requireNonNull(client, "client");
        this.hostId = Objects.requireNonNull(hostId, "hostId");
        this.replies = Objects.requireNonNull(replies, "replies");
        this.timeout = timeout;
        this.countsRefresh = countsRefresh;
        this.roundTrips = roundTrips;
        this.nanoClock = System::nanoTime;
    }

    /**
     * One step: connect if needed, send {@code report} if it changed, ping. Throws when the
     * manager refuses the stream (wrong token, no stream endpoint: an older manager) with a
     * message that says so; a network failure is also thrown, and the next tick retries.
     */
    public synchronized void tick(final HeartbeatRequest report) {
        long now = nanoClock.getAsLong();
        WebSocket ws = socket;
        if (ws != null && (ws.isInputClosed() || ws.isOutputClosed())) {
            ws = drop("closed by the manager" + (lastError == null ? "" : ": " + lastError));
        }
        if (ws != null && now - lastHeard > timeout.toNanos()) {
            ws = drop("nothing heard from the manager for " + Duration.ofNanos(now - lastHeard).toMillis() + " ms");
        }
        if (ws == null) {
            ws = connect();
            lastSent = null;
        }
        if (lastSent == null || !sameExceptCounts(lastSent, report)
                || (!lastSent.equals(report) && now - lastSentAt >= countsRefresh.toNanos())) {
            ws.sendText(new String(Json.write(report), java.nio.charset.StandardCharsets.UTF_8), true).join();
            lastSent = report;
            lastSentAt = now;
        }
        pingSentAt = nanoClock.getAsLong();
        try {
            ws.sendPing(PING);
        } catch (IllegalStateException stillSending) {
            // The last ping is not out yet (the manager reads slowly); silence detection decides.
        }
    }

    /** Whether the last stream was closed because the manager does not know this host (register again). */
    public boolean unknownHost() {
        return unknownHost;
    }

    /** The last ping's round trip in nanoseconds, or -1 before the first pong. */
    public long lastRoundTrip() {
        return lastRoundTrip;
    }

    public boolean connected() {
        WebSocket ws = socket;
        return ws != null && !ws.isInputClosed() && !ws.isOutputClosed();
    }

    private WebSocket drop(final String why) {
        WebSocket ws = socket;
        socket = null;
        if (ws != null) {
            LOG.warn("stream of {} to {} dropped: {}; reconnecting", hostId, client.base(), why);
            ws.abort();
        }
        return null;
    }

    /**
     * Opens the stream on the manager in use, else on the next ones (several manager URLs: one
     * that cannot be reached, or refuses with 503, is left for the next, each tried once).
     */
    private WebSocket connect() {
        ManagerClientException last = null;
        for (int tries = 0; tries < client.bases().size(); tries++) {
            URI base = client.base();
            try {
                return connect(base);
            } catch (ManagerClientException e) {
                if (client.bases().size() == 1 || e.status() != ManagerClientException.NO_REPLY && e.status() != 503) {
                    throw e;
                }
                last = e;
                URI next = client.failOver(base);
                LOG.warn("stream of {}: manager at {} failed ({}); trying {}", hostId, base, e.getMessage(), next);
            }
        }
        throw last;
    }

    private WebSocket connect(final URI base) {
        unknownHost = false;
        lastError = null;
        URI uri = ManagerClient.streamUri(base, hostId);
        CompletableFuture<WebSocket> opening = client.http().newWebSocketBuilder()
                .header("Authorization", "Bearer " + client.token())
                .subprotocols(AgentStreamProtocol.SUBPROTOCOL)
                .connectTimeout(CONNECT_TIMEOUT)
                .buildAsync(uri, new Listener());
        WebSocket ws;
        try {
            ws = opening.get(CONNECT_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            opening.cancel(true);
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "manager at " + base
                    + " did not open the agent stream within " + CONNECT_TIMEOUT.multipliedBy(2), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManagerClientException(ManagerClientException.NO_REPLY, "interrupted", e);
        } catch (ExecutionException e) {
            throw refused(base, e.getCause());
        }
        lastHeard = nanoClock.getAsLong();
        socket = ws;
        return ws;
    }

    private ManagerClientException refused(final URI base, final Throwable cause) {
        if (cause instanceof WebSocketHandshakeException h) {
            int status = h.getResponse().statusCode();
            String why = switch (status) {
                case 404 -> "the manager has no agent stream (" + AgentStreamProtocol.PATH + "): it is older than"
                        + " this agent, which needs stream protocol " + AgentStreamProtocol.SUBPROTOCOL
                        + "; upgrade the manager (or the host is not registered)";
                case 401 -> "the manager rejected the token; pass the right one";
                case 400 -> "the manager refused stream protocol " + AgentStreamProtocol.SUBPROTOCOL
                        + ": agent and manager versions are incompatible";
                default -> "the manager refused the agent stream";
            };
            if (status == 404) {
                unknownHost = true;
            }
            return new ManagerClientException(status, "manager at " + base + ": " + why + " (HTTP "
                    + status + ")", h);
        }
        String message = cause instanceof IOException && cause.getMessage() != null ? cause.getMessage()
                : String.valueOf(cause);
        return new ManagerClientException(ManagerClientException.NO_REPLY, "cannot open the agent stream to "
                + base + ": " + message, cause);
    }

    /** Same images and volumes; chunk counts may differ. */
    private static boolean sameExceptCounts(final HeartbeatRequest a, final HeartbeatRequest b) {
        return Objects.equals(keys(a), keys(b)) && a.volumes().equals(b.volumes())
                && a.volumeFiles().equals(b.volumeFiles()) && Objects.equals(a.hostId(), b.hostId());
    }

    private static java.util.Set<String> keys(final HeartbeatRequest r) {
        return r.images() == null ? java.util.Set.of() : r.images().keySet();
    }

    @Override
    public synchronized void close() {
        WebSocket ws = socket;
        socket = null;
        if (ws != null) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "agent stopping").orTimeout(1, TimeUnit.SECONDS)
                    .whenComplete((w, e) -> w.abort());
        }
    }

    /** Receives the manager's pushes and pongs. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(final WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(final WebSocket webSocket, final CharSequence data, final boolean last) {
            lastHeard = nanoClock.getAsLong();
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    AgentPush push = Json.REPLIES.readValue(text, AgentPush.class);
                    if (push.reply() != null) {
                        replies.accept(push.reply());
                    } else if (push.error() != null) {
                        lastError = push.error();
                        LOG.warn("manager refused the report of {}: {}", hostId, push.error());
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.warn("unreadable push from the manager to {}: {}", hostId, e.toString());
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(final WebSocket webSocket, final ByteBuffer message) {
            long now = nanoClock.getAsLong();
            lastHeard = now;
            lastRoundTrip = now - pingSentAt;
            if (roundTrips != null) {
                roundTrips.accept(lastRoundTrip);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(final WebSocket webSocket, final ByteBuffer message) {
            lastHeard = nanoClock.getAsLong();
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(final WebSocket webSocket, final int statusCode, final String reason) {
            if (statusCode == AgentStreamProtocol.CLOSE_UNKNOWN_HOST) {
                unknownHost = true;
            }
            lastError = statusCode + " " + reason;
            return null;
        }

        @Override
        public void onError(final WebSocket webSocket, final Throwable error) {
            lastError = error.toString();
        }
    }
}
