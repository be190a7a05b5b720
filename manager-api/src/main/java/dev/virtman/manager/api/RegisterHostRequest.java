package dev.virtman.manager.api;

/**
 * {@code POST /v1/hosts}: an agent announces itself.
 *
 * @param address the agent's iSCSI portal, {@code ip:port}, where children log in
 */
public record RegisterHostRequest(String hostId, String address, Labels labels) { }
