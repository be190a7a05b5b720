package dev.virtman.manager.api;

/**
 * What the manager sends an agent on its stream ({@link AgentStreamProtocol}): its current
 * heartbeat reply, or an error about its last report (the stream stays open for the next).
 */
public record AgentPush(HeartbeatReply reply, String error) {

    public static AgentPush of(final HeartbeatReply reply) {
        return new AgentPush(reply, null);
    }

    public static AgentPush failure(final String error) {
        return new AgentPush(null, error);
    }
}
