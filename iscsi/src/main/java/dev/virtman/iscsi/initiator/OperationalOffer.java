package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.TextParameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operational keys the initiator offers (RFC 7143 §13) and how it reads the target's
 * answers. VirtMan's initiator reads images, so it keeps the simplest profile: one connection,
 * ErrorRecoveryLevel 0 (recovery = re-login and reissue), in-order data.
 */
final class OperationalOffer {

    static final String HEADER_DIGEST = "HeaderDigest";
    static final String DATA_DIGEST = "DataDigest";
    static final String MAX_RECV_DATA_SEGMENT_LENGTH = "MaxRecvDataSegmentLength";
    static final String MAX_BURST_LENGTH = "MaxBurstLength";
    static final String FIRST_BURST_LENGTH = "FirstBurstLength";
    static final String IMMEDIATE_DATA = "ImmediateData";
    static final String INITIAL_R2T = "InitialR2T";
    static final String MAX_CONNECTIONS = "MaxConnections";
    static final String ERROR_RECOVERY_LEVEL = "ErrorRecoveryLevel";
    static final String DATA_PDU_IN_ORDER = "DataPDUInOrder";
    static final String DATA_SEQUENCE_IN_ORDER = "DataSequenceInOrder";
    static final String DEFAULT_TIME2WAIT = "DefaultTime2Wait";
    static final String DEFAULT_TIME2RETAIN = "DefaultTime2Retain";
    static final String MAX_OUTSTANDING_R2T = "MaxOutstandingR2T";
    static final String TARGET_PORTAL_GROUP_TAG = "TargetPortalGroupTag";

    static final String CRC32C = "CRC32C";
    static final String NONE = "None";
    static final String YES = "Yes";
    static final String NO = "No";
    static final String NOT_UNDERSTOOD = "NotUnderstood";
    static final String IRRELEVANT = "Irrelevant";

    /** §13.13: MaxBurstLength ranges 512..2^24-1; offer the maximum, the result is the minimum. */
    static final int OFFERED_MAX_BURST_LENGTH = (1 << 24) - 1;
    /** §13.14 default; irrelevant to a read-only initiator but offered explicitly. */
    static final int OFFERED_FIRST_BURST_LENGTH = 65536;
    /** Defaults that apply when the target does not answer (§13.12-§13.14). */
    static final int DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;
    static final int DEFAULT_MAX_BURST_LENGTH = 262144;
    static final int DEFAULT_FIRST_BURST_LENGTH = 65536;

    /** Keys a target states about itself; they need no answer. */
    private static final Set<String> DECLARATIONS = Set.of(TARGET_PORTAL_GROUP_TAG, "TargetAlias", "TargetAddress",
            MAX_RECV_DATA_SEGMENT_LENGTH);

    private final InitiatorOptions options;
    private final boolean discovery;

    OperationalOffer(final InitiatorOptions options, final boolean discovery) {
        this.options = options;
        this.discovery = discovery;
    }

    /** What we send in the first operational-stage request. */
    List<TextParameter> offer() {
        List<TextParameter> keys = new ArrayList<>();
        keys.add(new TextParameter(HEADER_DIGEST, options.headerDigest() ? CRC32C + "," + NONE : NONE));
        keys.add(new TextParameter(DATA_DIGEST, options.dataDigest() ? CRC32C + "," + NONE : NONE));
        keys.add(new TextParameter(MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(options.maxRecvDataSegmentLength())));
        if (discovery) {
            return keys; // §13: the session-wide keys below are irrelevant in a discovery session
        }
        keys.add(new TextParameter(MAX_CONNECTIONS, "1"));
        keys.add(new TextParameter(ERROR_RECOVERY_LEVEL, "0"));
        keys.add(new TextParameter(INITIAL_R2T, YES));
        keys.add(new TextParameter(IMMEDIATE_DATA, YES));
        keys.add(new TextParameter(MAX_BURST_LENGTH, Integer.toString(OFFERED_MAX_BURST_LENGTH)));
        keys.add(new TextParameter(FIRST_BURST_LENGTH, Integer.toString(OFFERED_FIRST_BURST_LENGTH)));
        keys.add(new TextParameter(DEFAULT_TIME2WAIT, "0"));
        keys.add(new TextParameter(DEFAULT_TIME2RETAIN, "0"));
        keys.add(new TextParameter(MAX_OUTSTANDING_R2T, "1"));
        keys.add(new TextParameter(DATA_PDU_IN_ORDER, YES));
        keys.add(new TextParameter(DATA_SEQUENCE_IN_ORDER, YES));
        return keys;
    }

    /**
     * Our answers to keys the target proposed on its own (neither answers to our offer nor
     * declarations): our own value for the keys we know, NotUnderstood for the rest (§6.2).
     */
    List<TextParameter> answersTo(final Map<String, String> targetKeys, final Set<String> offered) {
        List<TextParameter> answers = new ArrayList<>();
        Map<String, String> ours = new java.util.HashMap<>();
        for (TextParameter p : offer()) {
            ours.put(p.key(), p.value());
        }
        for (String key : targetKeys.keySet()) {
            if (offered.contains(key) || DECLARATIONS.contains(key)) {
                continue;
            }
            String value = ours.get(key);
            if (HEADER_DIGEST.equals(key) || DATA_DIGEST.equals(key)) {
                value = NONE;
            }
            answers.add(new TextParameter(key, value != null ? value : NOT_UNDERSTOOD));
        }
        return answers;
    }

    /** Digest choice: the target must pick one of the values we offered (§13.1). */
    static boolean digest(final String key, final String answer, final boolean offered) throws IscsiLoginException {
        if (answer == null || NONE.equals(answer) || IRRELEVANT.equals(answer)) {
            return false;
        }
        if (CRC32C.equals(answer) && offered) {
            return true;
        }
        throw IscsiLoginException.local("target answered " + key + "=" + answer + ", which we did not offer");
    }

    /** A numeric answer within [min, max], or {@code fallback} when absent or irrelevant. */
    static int number(final String key, final String answer, final int fallback, final int min, final int max)
            throws IscsiLoginException {
        if (answer == null || IRRELEVANT.equals(answer) || NOT_UNDERSTOOD.equals(answer)) {
            return fallback;
        }
        try {
            long v = Long.parseLong(answer);
            if (v < min || v > max) {
                throw IscsiLoginException.local("target answered " + key + "=" + answer + ", outside " + min + ".." + max);
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw IscsiLoginException.local("target answered " + key + "=" + answer + ", not a number");
        }
    }

    /** A boolean answer, or {@code fallback} when absent or irrelevant. */
    static boolean bool(final String key, final String answer, final boolean fallback) throws IscsiLoginException {
        if (answer == null || IRRELEVANT.equals(answer) || NOT_UNDERSTOOD.equals(answer)) {
            return fallback;
        }
        if (YES.equals(answer)) {
            return true;
        }
        if (NO.equals(answer)) {
            return false;
        }
        throw IscsiLoginException.local("target answered " + key + "=" + answer + ", not Yes or No");
    }
}
