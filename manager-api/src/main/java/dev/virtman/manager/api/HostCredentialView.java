package dev.virtman.manager.api;

/**
 * Reply to {@code POST /v1/hosts/{id}/credential}: the host's own bearer token. Shown once; the
 * manager keeps only its hash, and the agent stores it in a file of mode 0600.
 */
public record HostCredentialView(String hostId, String token) { }
