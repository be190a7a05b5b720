package dev.virtman.manager.api;

/**
 * @param verdict {@code failed} (children re-parented now) or {@code suspect} (the host still
 *                heartbeats and only one child complained; one more report, or a missed heartbeat, fails it)
 */
public record FailureReportReply(String failedHostId, String verdict) { }
