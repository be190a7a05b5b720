package dev.virtman.manager.api;

/**
 * The iSCSI properties of a volume's writable LUN on its host's own agent, in the terms of
 * os-brick's iSCSI connector (Cinder {@code driver_volume_type: iscsi}).
 *
 * @param portal       {@code ip:port} of the agent on the volume's host
 * @param lun          always 0: one volume per target
 * @param authMethod   {@code CHAP} (RFC 7143 §12.1.3, one-way)
 * @param exported     whether the agent has reported the LUN; false right after placement,
 *                     until its next heartbeat
 */
public record VolumeConnection(String volumeId, String hostId, String portal, String iqn, int lun,
                               String authMethod, String authUsername, String authPassword, boolean exported) { }
