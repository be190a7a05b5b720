package dev.virtman.iscsi.login;

import dev.virtman.iscsi.pdu.TextParameter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Target side of operational parameter negotiation (RFC 7143 §6.2, §13). Each key the initiator
 * offers gets an answer computed by the key's result function (minimum, maximum, Boolean AND/OR,
 * list selection) or declaration; values out of range get {@code Reject}, keys that do not apply
 * {@code Irrelevant}, unknown keys {@code NotUnderstood} (§6.2.1). One instance per login.
 */
public final class OperationalNegotiator {

    public static final String NOT_UNDERSTOOD = "NotUnderstood";
    public static final String REJECT = "Reject";
    public static final String IRRELEVANT = "Irrelevant";
    public static final String YES = "Yes";
    public static final String NO = "No";
    public static final String NONE = "None";
    public static final String CRC32C = "CRC32C";

    /** Smallest data segment / burst length a peer may declare (§13.12-§13.14). */
    private static final int MIN_SEGMENT = 512;
    private static final int MAX_SEGMENT = 0xffffff;
    private static final int MAX_R2T_OR_CONNECTIONS = 65535;
    private static final int MAX_TIME = 3600;
    private static final int MAX_ERROR_RECOVERY_LEVEL = 2;
    /** RFC 7144 iSCSIProtocolLevel this target implements (RFC 7143 is level 1). */
    private static final int PROTOCOL_LEVEL = 1;
    private static final String TASK_REPORTING_RFC3720 = "RFC3720";

    private final TargetLoginSettings settings;
    private final Set<String> answered = new HashSet<>();

    private int initiatorMrdsl = SessionParameters.DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;
    private int maxBurstLength = SessionParameters.RFC_DEFAULTS.maxBurstLength();
    private int firstBurstLength = SessionParameters.RFC_DEFAULTS.firstBurstLength();
    private boolean initialR2T = SessionParameters.RFC_DEFAULTS.initialR2T();
    private boolean immediateData = SessionParameters.RFC_DEFAULTS.immediateData();
    private boolean headerDigest;
    private boolean dataDigest;
    private int maxOutstandingR2T = SessionParameters.RFC_DEFAULTS.maxOutstandingR2T();
    private int defaultTime2Wait = SessionParameters.RFC_DEFAULTS.defaultTime2Wait();
    private int defaultTime2Retain = SessionParameters.RFC_DEFAULTS.defaultTime2Retain();
    private boolean targetMrdslDeclared;
    private final boolean discovery;

    public OperationalNegotiator(final TargetLoginSettings settings, final boolean discovery) {
        this.settings = settings;
        this.discovery = discovery;
    }

    /**
     * Answers the operational keys in {@code offers}, appending answers to {@code out}. Keys that
     * are the login negotiator's business (names, authentication) must have been removed.
     */
    public void negotiate(final List<TextParameter> offers, final List<TextParameter> out) {
        negotiate(offers, out, true);
    }

    /**
     * @param declare whether to add the target's own declarations ({@link #declareOwnLimits});
     *                false in the security stage, where open-iscsi refuses any operational key
     *                from the target ("can't accept MaxRecvDataSegmentLength in security stage")
     */
    public void negotiate(final List<TextParameter> offers, final List<TextParameter> out, final boolean declare) {
        List<TextParameter> answers = new ArrayList<>();
        boolean sawFirstBurst = false;
        for (TextParameter p : offers) {
            String key = p.key();
            String value = p.value();
            String answer = switch (key) {
                case "HeaderDigest" -> {
                    String d = chooseDigest(value);
                    headerDigest = CRC32C.equals(d);
                    yield d;
                }
                case "DataDigest" -> {
                    String d = chooseDigest(value);
                    dataDigest = CRC32C.equals(d);
                    yield d;
                }
                case "MaxConnections" -> numberOr(value, 1, MAX_R2T_OR_CONNECTIONS, n -> "1");
                case "ErrorRecoveryLevel" -> numberOr(value, 0, MAX_ERROR_RECOVERY_LEVEL, n -> "0");
                case "MaxRecvDataSegmentLength" -> {
                    long n = parseNumber(value, MIN_SEGMENT, MAX_SEGMENT);
                    if (n < 0) {
                        yield REJECT;
                    }
                    initiatorMrdsl = (int) n;
                    yield null; // declarative: no answer needed (§13.12); ours is declared below
                }
                case "MaxBurstLength" -> numberOr(value, MIN_SEGMENT, MAX_SEGMENT, n -> {
                    maxBurstLength = (int) Math.min(n, settings.maxBurstLength());
                    return Integer.toString(maxBurstLength);
                });
                case "FirstBurstLength" -> {
                    sawFirstBurst = true;
                    yield numberOr(value, MIN_SEGMENT, MAX_SEGMENT, n -> {
                        firstBurstLength = (int) Math.min(n, settings.firstBurstLength());
                        return Integer.toString(firstBurstLength);
                    });
                }
                case "InitialR2T" -> booleanOr(value, b -> {
                    initialR2T = b || settings.initialR2T();
                    return yesNo(initialR2T);
                });
                case "ImmediateData" -> booleanOr(value, b -> {
                    immediateData = b && settings.immediateData();
                    return yesNo(immediateData);
                });
                case "MaxOutstandingR2T" -> numberOr(value, 1, MAX_R2T_OR_CONNECTIONS, n -> {
                    maxOutstandingR2T = (int) Math.min(n, settings.maxOutstandingR2T());
                    return Integer.toString(maxOutstandingR2T);
                });
                case "DefaultTime2Wait" -> numberOr(value, 0, MAX_TIME, n -> {
                    defaultTime2Wait = (int) Math.max(n, SessionParameters.RFC_DEFAULTS.defaultTime2Wait());
                    return Integer.toString(defaultTime2Wait);
                });
                case "DefaultTime2Retain" -> numberOr(value, 0, MAX_TIME, n -> {
                    // ErrorRecoveryLevel 0 keeps no task state after a connection drop
                    defaultTime2Retain = 0;
                    return "0";
                });
                // Both are Boolean OR (§13.18, §13.19); we only implement in-order delivery, so Yes.
                case "DataPDUInOrder", "DataSequenceInOrder" -> booleanOr(value, b -> YES);
                // RFC 3720 markers (removed by RFC 7143): Boolean AND with our No.
                case "IFMarker", "OFMarker" -> booleanOr(value, b -> NO);
                case "IFMarkInt", "OFMarkInt" -> IRRELEVANT;
                case "InitiatorAlias" -> null;
                case "TargetAlias", "TargetAddress", "TargetPortalGroupTag", "SendTargets" -> IRRELEVANT;
                case "iSCSIProtocolLevel" -> numberOr(value, 0, Integer.MAX_VALUE,
                        n -> Long.toString(Math.min(n, PROTOCOL_LEVEL)));
                case "TaskReporting" -> TASK_REPORTING_RFC3720;
                default -> NOT_UNDERSTOOD;
            };
            if (answer != null && answered.add(key)) {
                answers.add(new TextParameter(key, answer));
            }
        }
        if (sawFirstBurst && initialR2T && !immediateData) {
            // §13.14: FirstBurstLength is irrelevant when no unsolicited data is allowed
            replace(answers, "FirstBurstLength", IRRELEVANT);
        }
        if (firstBurstLength > maxBurstLength) {
            firstBurstLength = maxBurstLength;
            replace(answers, "FirstBurstLength", Integer.toString(firstBurstLength));
        }
        out.addAll(answers);
        if (declare) {
            declareOwnLimits(out);
        }
    }

    /** Declares the target's own MaxRecvDataSegmentLength once if {@link #negotiate} has not yet. */
    public void declareOwnLimits(final List<TextParameter> out) {
        if (!targetMrdslDeclared && !discovery) {
            targetMrdslDeclared = true;
            out.add(new TextParameter("MaxRecvDataSegmentLength", Integer.toString(settings.maxRecvDataSegmentLength())));
        }
    }

    /** The result of negotiation so far. */
    public SessionParameters result() {
        int targetMrdsl = targetMrdslDeclared ? settings.maxRecvDataSegmentLength()
                : SessionParameters.DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;
        return new SessionParameters(initiatorMrdsl, targetMrdsl, maxBurstLength,
                Math.min(firstBurstLength, maxBurstLength), initialR2T, immediateData, headerDigest, dataDigest,
                maxOutstandingR2T, 1, defaultTime2Wait, defaultTime2Retain, 0, true, true);
    }

    private static void replace(final List<TextParameter> answers, final String key, final String value) {
        for (int i = 0; i < answers.size(); i++) {
            if (answers.get(i).key().equals(key)) {
                answers.set(i, new TextParameter(key, value));
            }
        }
    }

    /** §13.1: the first value of the initiator's list that we support, else Reject. */
    private static String chooseDigest(final String offer) {
        for (String v : offer.split(",", -1)) {
            String t = v.trim();
            if (t.equalsIgnoreCase(NONE)) {
                return NONE;
            }
            if (t.equalsIgnoreCase(CRC32C)) {
                return CRC32C;
            }
        }
        return REJECT;
    }

    private interface NumberAnswer {
        String answer(long n);
    }

    private interface BooleanAnswer {
        String answer(boolean b);
    }

    private static String numberOr(final String value, final long min, final long max, final NumberAnswer f) {
        long n = parseNumber(value, min, max);
        return n < 0 ? REJECT : f.answer(n);
    }

    private static String booleanOr(final String value, final BooleanAnswer f) {
        if (YES.equals(value)) {
            return f.answer(true);
        }
        if (NO.equals(value)) {
            return f.answer(false);
        }
        return REJECT;
    }

    private static String yesNo(final boolean b) {
        return b ? YES : NO;
    }

    /**
     * A §6.1 numerical value (decimal, or hex with 0x); -1 if malformed or outside [min, max].
     */
    static long parseNumber(final String value, final long min, final long max) {
        if (value == null || value.isEmpty() || value.length() > 20) {
            return -1;
        }
        try {
            long n;
            String lower = value.toLowerCase(Locale.ROOT);
            if (lower.startsWith("0x")) {
                n = Long.parseLong(lower.substring(2), 16);
            } else {
                n = Long.parseLong(value);
            }
            return n >= min && n <= max ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
