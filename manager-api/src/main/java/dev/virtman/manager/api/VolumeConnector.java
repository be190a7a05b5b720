package dev.virtman.manager.api;

/**
 * {@code POST /v1/volumes/{id}/connection}: who wants to attach (os-brick's connector, trimmed to
 * what the manager uses).
 *
 * @param host      the compute host's name: a VirtMan host id, or else matched by {@code ip}
 * @param ip        the compute host's address, matched against the registered agent portals
 * @param initiator the initiator's IQN (logged; CHAP, not the name, protects the LUN)
 */
public record VolumeConnector(String host, String ip, String initiator) { }
