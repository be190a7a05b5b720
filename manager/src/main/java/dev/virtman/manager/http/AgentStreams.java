package dev.virtman.manager.http;

import dev.virtman.manager.Manager;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.ReplyChanges;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.AgentPush;
import dev.virtman.manager.auth.Access;
import dev.virtman.manager.auth.Principal;
import dev.virtman.manager.api.AgentStreamProtocol;
import dev.virtman.manager.api.ErrorBody;
import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.Json;
import dev.virtman.manager.volume.VolumeService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.pathmap.UriTemplatePathSpec;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.eclipse.jetty.websocket.server.WebSocketCreator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's end of the agent streams ({@link AgentStreamProtocol}): one WebSocket per agent
 * instead of a full heartbeat request every interval.
 *
 * <p><b>Liveness is a ping.</b> Every frame an agent sends (its pings, every interval) notes the
 * host as heard ({@link Manager#heard}: one map update, no lock, no reply), and the failure
 * detector works from those times as it did from heartbeats. The detector alone judges silence:
 * it does not count time in which the manager itself could not run. Jetty's idle timeout on a
 * stream is only a backstop for dead connections ({@link #IDLE_BACKSTOP_TIMEOUTS} heartbeat
 * timeouts): when it was the heartbeat timeout itself, a manager that read late (a stall, a
 * starved machine) closed streams whose pings sat unread in its socket buffers, and every such
 * agent had to reconnect in the middle of the wave that made the manager slow. The upgrade
 * request is a sign of life too, so a host reconnecting is not failed while its stream opens.
 *
 * <p><b>Replies are pushed when they change.</b> A report (the agent's heartbeat body, sent when
 * it changes) goes through {@link Manager#heartbeat} like a POSTed heartbeat, on a virtual thread
 * so thousands of joining agents queue in the manager's combiner rather than on request threads,
 * and its reply is sent back. Afterwards a pusher, woken by {@link ReplyChanges} (hosts re-parented
 * by a re-plan, image-wide events), recomputes only those hosts' replies under one lock hold and
 * sends the ones whose JSON differs from what the host was last sent; a full pass every
 * {@link #RESYNC_INTERVALS} intervals catches what is not tracked (volume states). A host failed
 * while its stream is open, or whose report names an image registered since, has its report
 * applied again as a heartbeat (it rejoins, as a failed host that heartbeats does).
 */
public final class AgentStreams implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentStreams.class);
    /** Shortest time between two push passes: a wave of commits costs one pass per period. */
    private static final Duration PUSH_PERIOD = Duration.ofMillis(100);
    /** Every this many heartbeat intervals every open stream's reply is recomputed. */
    private static final int RESYNC_INTERVALS = 5;
    /**
     * A stream on which nothing was read for this many heartbeat timeouts is closed by Jetty
     * (dead peer, half-open connection). Silence itself is the failure detector's to judge.
     */
    static final int IDLE_BACKSTOP_TIMEOUTS = 5;

    private final Manager manager;
    private final VolumeService volumes;
    private final Authenticator authenticator;
    private final Duration idleTimeout;
    private final Map<String, Stream> open = new ConcurrentHashMap<>();
    private final AtomicBoolean changed = new AtomicBoolean();
    private final ExecutorService reports = Executors.newVirtualThreadPerTaskExecutor();
    private final Counter pushes;
    private final Counter reportsIn;
    private long lastFullPass;
    private final long resyncNanos;
    /** A stream with a frame this recent is alive (agents ping every interval; one of slack). */
    private final long heardRecentlyNanos;

    AgentStreams(final Manager manager, final VolumeService volumes, final Authenticator authenticator,
                 final MeterRegistry metrics) {
        this.manager = manager;
        this.volumes = volumes;
        this.authenticator = authenticator;
        this.idleTimeout = manager.config().heartbeatTimeout().multipliedBy(IDLE_BACKSTOP_TIMEOUTS);
        this.resyncNanos = manager.config().heartbeatInterval().toNanos() * RESYNC_INTERVALS;
        this.heardRecentlyNanos = manager.config().heartbeatInterval().toNanos() * 2;
        this.lastFullPass = System.nanoTime();
        this.pushes = Counter.builder("virtman.stream.pushes").description("replies pushed on agent streams")
                .register(metrics);
        this.reportsIn = Counter.builder("virtman.stream.reports").description("reports received on agent streams")
                .register(metrics);
        metrics.gauge("virtman.stream.open", open, Map::size);
        manager.replyChanges().listen(() -> changed.set(true));
    }

    /** Maps the stream path on Jetty's WebSocket container. */
    void install(final ServerWebSocketContainer container) {
        container.setIdleTimeout(idleTimeout);
        container.setMaxTextMessageSize(AgentStreamProtocol.MAX_MESSAGE_BYTES);
        container.setMaxBinaryMessageSize(1024);
        container.addMapping(new UriTemplatePathSpec(AgentStreamProtocol.PATH), creator());
    }

    void schedule(final ScheduledExecutorService timers) {
        timers.scheduleWithFixedDelay(this::pushPass, PUSH_PERIOD.toMillis(), PUSH_PERIOD.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    int openStreams() {
        return open.size();
    }

    private WebSocketCreator creator() {
        UriTemplatePathSpec spec = new UriTemplatePathSpec(AgentStreamProtocol.PATH);
        return (ServerUpgradeRequest request, ServerUpgradeResponse response,
                org.eclipse.jetty.util.Callback callback) -> {
            Principal caller;
            try {
                caller = authenticator.authenticate(request.getHeaders().get(HttpHeader.AUTHORIZATION));
            } catch (ManagerException e) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                return refuse(response, callback, e.reason().httpStatus(), e.getMessage());
            }
            String hostId = Routes.decode(spec.getPathParams(request.getHttpURI().getPath()).get("id"));
            if (!TargetNames.HOST_ID.matcher(hostId).matches()) {
                return refuse(response, callback, 422, "host id must match " + TargetNames.HOST_ID.pattern());
            }
            try {
                Access.requireActingAs(caller, hostId, "opening the agent stream");
            } catch (ManagerException e) {
                return refuse(response, callback, e.reason().httpStatus(), e.getMessage());
            }
            if (!request.hasSubProtocol(AgentStreamProtocol.SUBPROTOCOL)) {
                return refuse(response, callback, 400, "the agent stream needs WebSocket subprotocol "
                        + AgentStreamProtocol.SUBPROTOCOL + " (offered: " + request.getSubProtocols()
                        + "); this agent and manager are of incompatible versions");
            }
            if (!manager.leading()) {
                // Only the leader judges liveness: a stream here would keep the agent content while
                // the leader never hears it. 503 moves an agent with several manager URLs on.
                return refuse(response, callback, 503, "this manager is not the leader; agents stream to the leader");
            }
            // Whether the host is registered is checked by its first report (no manager lock here:
            // an enrolment wave's registrations hold it); an unknown host's stream closes with 4404.
            // The host's own authenticated request is a sign of life: a placed host reconnecting
            // in a wave is not failed while its stream opens (no lock either: an arrival time).
            manager.heard(hostId);
            response.setAcceptedSubProtocol(AgentStreamProtocol.SUBPROTOCOL);
            return new Stream(hostId);
        };
    }

    private static Object refuse(final ServerUpgradeResponse response, final org.eclipse.jetty.util.Callback callback,
                                 final int status, final String message) {
        byte[] body = Json.write(new ErrorBody(message));
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body), callback);
        return null;
    }

    /** Recomputes changed hosts' replies (all hosts on a resync) and sends those that differ. */
    void pushPass() {
        if (!manager.leading() && !open.isEmpty()) {
            // Leadership lost (a deposed or paused leader): send every agent on to the new leader.
            open.values().forEach(st -> st.close(AgentStreamProtocol.CLOSE_NOT_LEADER, "this manager no longer leads"));
            return;
        }
        try {
            long now = System.nanoTime();
            boolean full = now - lastFullPass >= resyncNanos;
            if (!full && !changed.getAndSet(false)) {
                return;
            }
            ReplyChanges.Drained drained = manager.replyChanges().drain();
            if (full || drained.all()) {
                lastFullPass = now;
            }
            Map<String, HeartbeatRequest> wanted = new HashMap<>();
            for (Stream s : open.values()) {
                HeartbeatRequest report = s.report;
                if (report != null && (full || drained.all() || drained.hosts().contains(s.hostId))) {
                    wanted.put(s.hostId, report);
                }
            }
            if (wanted.isEmpty()) {
                return;
            }
            Map<String, HeartbeatReply> replies = manager.currentReplies(wanted);
            for (Map.Entry<String, HeartbeatRequest> e : wanted.entrySet()) {
                Stream s = open.get(e.getKey());
                if (s == null) {
                    continue;
                }
                if (!replies.containsKey(e.getKey())) {
                    s.close(AgentStreamProtocol.CLOSE_UNKNOWN_HOST, "host " + s.hostId + " is not registered");
                } else if (replies.get(e.getKey()) == null) {
                    // Failed while connected, or a newly registered image: rejoin, but only on a
                    // sign of life. A host failed for silence whose stream is not closed yet must
                    // not be revived from its own last report; its next ping does it.
                    if (System.nanoTime() - s.lastFrameNanos <= heardRecentlyNanos) {
                        s.submit(e.getValue());
                    } else {
                        s.rejoinOnNextFrame = true;
                    }
                } else {
                    HeartbeatReply reply = replies.get(e.getKey());
                    s.push(volumes == null ? reply : volumes.onHeartbeat(s.hostId, e.getValue(), reply));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("agent stream push pass failed; the next one retries", e);
            changed.set(true);
        }
    }

    @Override
    public void close() {
        reports.shutdownNow();
    }

    /** One agent's stream (public: Jetty binds listener methods through a public lookup). */
    public final class Stream implements Session.Listener.AutoDemanding {
        final String hostId;
        volatile Session session;
        /** The agent's last report, applied; null until the first. */
        volatile HeartbeatRequest report;
        /** When the agent last sent a frame (open, ping, pong, report). */
        volatile long lastFrameNanos = System.nanoTime();
        /** The host must rejoin (failed while this stream was open), on its next frame. */
        volatile boolean rejoinOnNextFrame;
        /** JSON of the last push, to send only what changed. */
        private String lastSent;
        private final Object reportLock = new Object();

        Stream(final String hostId) {
            this.hostId = hostId;
        }

        @Override
        public void onWebSocketOpen(final Session opened) {
            session = opened;
            manager.heard(hostId);
            Stream previous = open.put(hostId, this);
            if (previous != null && previous != this) {
                previous.close(AgentStreamProtocol.CLOSE_REPLACED, "replaced by a newer stream of " + hostId);
            }
            LOG.debug("agent stream of {} open from {}", hostId, opened.getRemoteSocketAddress());
        }

        @Override
        public void onWebSocketPing(final ByteBuffer payload) {
            heard();
            session.sendPong(payload, Callback.NOOP);
        }

        @Override
        public void onWebSocketPong(final ByteBuffer payload) {
            heard();
        }

        /** A frame from the agent: liveness, and the rejoin a failure left pending. */
        private void heard() {
            lastFrameNanos = System.nanoTime();
            manager.heard(hostId);
            HeartbeatRequest last = report;
            if (rejoinOnNextFrame && last != null) {
                rejoinOnNextFrame = false;
                submit(last);
            }
        }

        @Override
        public void onWebSocketText(final String text) {
            lastFrameNanos = System.nanoTime();
            rejoinOnNextFrame = false;
            manager.heard(hostId);
            reportsIn.increment();
            HeartbeatRequest parsed;
            try {
                parsed = Json.parse(text.getBytes(StandardCharsets.UTF_8), HeartbeatRequest.class);
            } catch (ManagerException e) {
                sendNow(AgentPush.failure(e.getMessage()));
                return;
            }
            submit(parsed);
        }

        /** Applies a report as a heartbeat off the selector and request threads, then answers it. */
        void submit(final HeartbeatRequest request) {
            reports.execute(() -> {
                synchronized (reportLock) {
                    try {
                        HeartbeatReply reply = manager.heartbeat(hostId, request);
                        report = request;
                        push(volumes == null ? reply : volumes.onHeartbeat(hostId, request, reply));
                    } catch (ManagerException e) {
                        if (e.reason() == ManagerException.Reason.NOT_FOUND) {
                            close(AgentStreamProtocol.CLOSE_UNKNOWN_HOST, e.getMessage());
                        } else {
                            sendNow(AgentPush.failure(e.getMessage()));
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("report of {} failed", hostId, e);
                        sendNow(AgentPush.failure("internal error: " + e));
                    }
                }
            });
        }

        /** Sends the reply unless it is what the host was last sent. */
        synchronized void push(final HeartbeatReply reply) {
            String json = new String(Json.write(AgentPush.of(reply)), StandardCharsets.UTF_8);
            if (json.equals(lastSent)) {
                return;
            }
            lastSent = json;
            pushes.increment();
            send(json);
        }

        void sendNow(final AgentPush push) {
            send(new String(Json.write(push), StandardCharsets.UTF_8));
        }

        private void send(final String json) {
            Session s = session;
            if (s != null && s.isOpen()) {
                s.sendText(json, Callback.from(() -> { }, failure ->
                        LOG.debug("push to {} failed: {}", hostId, failure.toString())));
            }
        }

        void close(final int code, final String reason) {
            Session s = session;
            if (s != null) {
                s.close(code, reason, Callback.NOOP);
            }
        }

        @Override
        public void onWebSocketClose(final int statusCode, final String reason) {
            open.remove(hostId, this);
            LOG.debug("agent stream of {} closed: {} {}", hostId, statusCode, reason);
        }

        @Override
        public void onWebSocketError(final Throwable cause) {
            LOG.debug("agent stream of {} failed: {}", hostId, cause.toString());
        }
    }

    /** The hosts with an open stream (tests). */
    List<String> hosts() {
        return List.copyOf(open.keySet());
    }
}
