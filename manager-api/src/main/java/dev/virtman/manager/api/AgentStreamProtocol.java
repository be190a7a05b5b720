package dev.virtman.manager.api;

/**
 * The agent stream (protocol {@value #SUBPROTOCOL}): one WebSocket per agent at
 * {@code GET /v1/hosts/{id}/stream}, opened with the same bearer credential as the REST API.
 *
 * <pre>
 *   agent -&gt; manager   text: a {@link HeartbeatRequest} (its report), when it changes
 *                      ping: every heartbeat interval; liveness (the manager pongs)
 *   manager -&gt; agent   text: an {@link AgentPush}: the reply to a report, and again whenever the
 *                      host's placement, parent lists, boot profile or volumes change
 *                      pong: answers each ping (the agent's proof the manager is alive)
 * </pre>
 *
 * Either side that hears nothing for the heartbeat timeout treats the other as gone: the manager
 * closes the stream (the host is failed by the failure detector as before), the agent reconnects.
 * Only the leader of several managers takes streams: a follower answers the upgrade with 503 and
 * a manager that stops leading closes its streams with {@link #CLOSE_NOT_LEADER}, so an agent with
 * several manager URLs moves on to the leader. A manager without the stream answers the upgrade with 404; a client that does not offer
 * {@value #SUBPROTOCOL} is refused with 400 naming the protocol it needs.
 */
public final class AgentStreamProtocol {

    /** The WebSocket subprotocol; a new major version gets a new name. */
    public static final String SUBPROTOCOL = "virtman-agent.v1";
    /** URI template of the stream. */
    public static final String PATH = "/v1/hosts/{id}/stream";
    /** Close code: the report was not a valid {@link HeartbeatRequest} (reason says why). */
    public static final int CLOSE_BAD_REPORT = 4422;
    /** Close code: the host is not registered (removed while connected): register and reconnect. */
    public static final int CLOSE_UNKNOWN_HOST = 4404;
    /** Close code: another stream of the same host replaced this one. */
    public static final int CLOSE_REPLACED = 4409;
    /** Close code: this manager does not lead (any more): reconnect, to the next manager URL if it refuses with 503. */
    public static final int CLOSE_NOT_LEADER = 4503;
    /** Largest report, in bytes: a host with 1,024 images and 1,024 volumes fits many times over. */
    public static final int MAX_MESSAGE_BYTES = 1 << 20;

    private AgentStreamProtocol() { }

    public static String path(final String hostId) {
        return PATH.replace("{id}", hostId);
    }
}
