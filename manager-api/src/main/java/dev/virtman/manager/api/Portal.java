package dev.virtman.manager.api;

/**
 * One entry of a parent list: where to log in and which target to open.
 *
 * @param hostId the parent host, or {@code null} for the source target
 * @param portal {@code ip:port} of the iSCSI portal
 * @param iqn    target name (RFC 7143 section 4.2.7.2)
 */
public record Portal(String hostId, String portal, String iqn) { }
