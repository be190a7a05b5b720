package dev.virtman.iscsi.initiator;

/**
 * The outcome of a successful login: operational parameters (RFC 7143 §13) and the session's
 * starting sequence numbers.
 *
 * @param headerDigest              HeaderDigest=CRC32C in effect
 * @param dataDigest                DataDigest=CRC32C in effect
 * @param maxRecvDataSegmentLength  what we declared (bounds PDUs we receive)
 * @param maxSendDataSegmentLength  what the target declared (bounds PDUs we send, §13.12)
 * @param maxBurstLength            negotiated MaxBurstLength (§13.13)
 * @param firstBurstLength          negotiated FirstBurstLength (§13.14)
 * @param immediateData             negotiated ImmediateData (§13.11)
 * @param initialR2T                negotiated InitialR2T (§13.10)
 * @param tsih                      the Target Session Identifying Handle the target assigned
 * @param targetPortalGroupTag      the portal group tag the target declared, or -1
 * @param statSN                    StatSN of the final login response
 * @param expCmdSN                  ExpCmdSN of the final login response: our first CmdSN
 * @param maxCmdSN                  MaxCmdSN of the final login response
 */
public record NegotiatedParameters(boolean headerDigest, boolean dataDigest, int maxRecvDataSegmentLength,
                                   int maxSendDataSegmentLength, int maxBurstLength, int firstBurstLength,
                                   boolean immediateData, boolean initialR2T, int tsih, int targetPortalGroupTag,
                                   int statSN, int expCmdSN, int maxCmdSN) {
}
