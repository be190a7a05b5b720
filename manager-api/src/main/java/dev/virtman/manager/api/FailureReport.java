package dev.virtman.manager.api;

/** {@code POST /v1/failure-reports}: a child cannot reach its parent. */
public record FailureReport(String reporter, String failedHostId) { }
