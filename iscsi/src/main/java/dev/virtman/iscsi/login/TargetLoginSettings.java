package dev.virtman.iscsi.login;

/**
 * What the target offers during operational negotiation (RFC 7143 §13). The defaults favour
 * throughput: large data segments and bursts, immediate data and unsolicited Data-Out allowed,
 * several R2Ts in flight.
 *
 * @param maxRecvDataSegmentLength the target's declared MaxRecvDataSegmentLength
 * @param maxBurstLength           the target's MaxBurstLength offer (result is the minimum)
 * @param firstBurstLength         the target's FirstBurstLength offer (result is the minimum)
 * @param initialR2T               the target's InitialR2T value (result is the OR)
 * @param immediateData            the target's ImmediateData value (result is the AND)
 * @param maxOutstandingR2T        the target's MaxOutstandingR2T offer (result is the minimum)
 * @param targetPortalGroupTag     returned in the first login response (§13.9)
 * @param targetAlias              declared when non-null (§13.6)
 */
public record TargetLoginSettings(
        int maxRecvDataSegmentLength,
        int maxBurstLength,
        int firstBurstLength,
        boolean initialR2T,
        boolean immediateData,
        int maxOutstandingR2T,
        int targetPortalGroupTag,
        String targetAlias) {

    public static final TargetLoginSettings DEFAULTS =
            new TargetLoginSettings(262144, 1048576, 262144, false, true, 16, 1, null);

    public TargetLoginSettings {
        if (maxRecvDataSegmentLength < 512 || maxRecvDataSegmentLength > 0xffffff) {
            throw new IllegalArgumentException("MaxRecvDataSegmentLength must be 512..2^24-1");
        }
        if (firstBurstLength > maxBurstLength) {
            throw new IllegalArgumentException("FirstBurstLength must not exceed MaxBurstLength (§13.14)");
        }
    }

    public TargetLoginSettings withTargetAlias(final String alias) {
        return new TargetLoginSettings(maxRecvDataSegmentLength, maxBurstLength, firstBurstLength, initialR2T,
                immediateData, maxOutstandingR2T, targetPortalGroupTag, alias);
    }
}
