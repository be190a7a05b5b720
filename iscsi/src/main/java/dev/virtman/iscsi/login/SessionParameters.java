package dev.virtman.iscsi.login;

/**
 * The operational parameters of a session once login is over (RFC 7143 §13). Field names follow
 * the text keys; {@link #RFC_DEFAULTS} holds the values that apply when a key is not negotiated.
 *
 * @param initiatorMaxRecvDataSegmentLength the initiator's declared MaxRecvDataSegmentLength: the
 *                                          largest data segment the target may send it (§13.12)
 * @param targetMaxRecvDataSegmentLength    the target's declared MaxRecvDataSegmentLength: the largest
 *                                          data segment the initiator may send it
 * @param maxBurstLength                    largest solicited Data-Out sequence or Data-In sequence (§13.13)
 * @param firstBurstLength                  largest unsolicited data per command (§13.14)
 * @param initialR2T                        whether unsolicited Data-Out PDUs are forbidden (§13.10)
 * @param immediateData                     whether a SCSI Command PDU may carry data (§13.11)
 * @param headerDigest                      CRC32C header digests (§13.1)
 * @param dataDigest                        CRC32C data digests (§13.1)
 * @param maxOutstandingR2T                 R2Ts that may be unanswered per task (§13.17)
 * @param maxConnections                    connections per session (§13.2)
 * @param defaultTime2Wait                  seconds to wait before reconnecting (§13.15)
 * @param defaultTime2Retain                seconds the target keeps task state after a drop (§13.16)
 * @param errorRecoveryLevel                §13.20; this implementation negotiates 0
 * @param dataPduInOrder                    §13.18
 * @param dataSequenceInOrder               §13.19
 */
public record SessionParameters(
        int initiatorMaxRecvDataSegmentLength,
        int targetMaxRecvDataSegmentLength,
        int maxBurstLength,
        int firstBurstLength,
        boolean initialR2T,
        boolean immediateData,
        boolean headerDigest,
        boolean dataDigest,
        int maxOutstandingR2T,
        int maxConnections,
        int defaultTime2Wait,
        int defaultTime2Retain,
        int errorRecoveryLevel,
        boolean dataPduInOrder,
        boolean dataSequenceInOrder) {

    /** Default MaxRecvDataSegmentLength (§13.12). */
    public static final int DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;

    public static final SessionParameters RFC_DEFAULTS = new SessionParameters(
            DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH, DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
            262144, 65536, true, true, false, false, 1, 1, 2, 20, 0, true, true);

    /** The most unsolicited data (immediate plus unsolicited Data-Out) one command may carry. */
    public int unsolicitedDataLimit() {
        if (initialR2T && !immediateData) {
            return 0;
        }
        return firstBurstLength;
    }
}
