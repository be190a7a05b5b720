package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.login.Chap;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.PduDecoder;
import dev.virtman.iscsi.pdu.TextAssembler;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The initiator's half of the login phase on one connection (RFC 7143 §6.3, §11.12-§11.13):
 *
 * <pre>
 *  SecurityNegotiation (CSG 0)      AuthMethod=None, T=1 NSG=1      -- or CHAP (§12.1.3):
 *                                   AuthMethod=CHAP / CHAP_A=5 / CHAP_N,CHAP_R[,CHAP_I,CHAP_C] T=1
 *  LoginOperationalNegotiation (1)  digests, lengths, ERL 0 ...     T=1 NSG=3
 *  FullFeaturePhase (3)
 * </pre>
 *
 * Every exchange is one request, then one response (joined across C-bit continuations,
 * §6.1). The number of rounds is bounded so a target that never says T=1 cannot keep us here.
 * One instance per login attempt.
 */
final class InitiatorLogin {

    static final int STAGE_SECURITY = 0;
    static final int STAGE_OPERATIONAL = 1;
    static final int STAGE_FULL_FEATURE = 3;
    /** RFC 7143 is version 0 (§11.12.4). */
    static final int VERSION = 0;
    /** The login exchange's Initiator Task Tag; any value, constant across its PDUs (§11.12.8). */
    static final int LOGIN_TASK_TAG = 0;
    /** Bound on request/response rounds per stage. */
    static final int MAX_ROUNDS = 8;

    static final String INITIATOR_NAME = "InitiatorName";
    static final String TARGET_NAME = "TargetName";
    static final String SESSION_TYPE = "SessionType";
    static final String AUTH_METHOD = "AuthMethod";
    static final String CHAP_A = "CHAP_A";
    static final String CHAP_I = "CHAP_I";
    static final String CHAP_C = "CHAP_C";
    static final String CHAP_N = "CHAP_N";
    static final String CHAP_R = "CHAP_R";
    static final String CHAP = "CHAP";
    /** CHAP identifiers are one octet (RFC 1994 §4.1). */
    static final int MAX_CHAP_IDENTIFIER = 0xff;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final InitiatorConnection connection;
    private final InitiatorOptions options;
    private final String targetName;
    private final long isid;
    private final int cmdSN;
    private int expStatSN;
    private boolean gotResponse;

    /**
     * @param targetName the target to log in to, or {@code null} for a discovery session
     * @param isid       our session id (kept across reconnects so the target reinstates, §6.3.5)
     * @param cmdSN      the CmdSN the session starts at
     */
    InitiatorLogin(final InitiatorConnection connection, final InitiatorOptions options, final String targetName,
                   final long isid, final int cmdSN) {
        this.connection = connection;
        this.options = options;
        this.targetName = targetName;
        this.isid = isid;
        this.cmdSN = cmdSN;
    }

    /** Runs the whole login; the connection is in full feature phase when this returns. */
    NegotiatedParameters login() throws IOException {
        connection.loginReceiveLimit(PduDecoder.DEFAULT_MAX_DATA_SEGMENT_LENGTH);
        // A deadline that closes the connection, not SO_TIMEOUT: the socket stays blocking (ConnectionDeadline).
        try (ConnectionDeadline deadline = connection.deadline(options.loginTimeout())) {
            try {
                NegotiatedParameters p;
                security();
                p = operational();
                if (deadline.expired()) {
                    throw new SocketTimeoutException("deadline passed");
                }
                return p;
            } catch (IOException e) {
                if (deadline.expired() || e instanceof SocketTimeoutException) {
                    throw new IscsiException("login to " + describeTarget() + " timed out after "
                            + options.loginTimeout().toMillis() + " ms", e);
                }
                throw e;
            }
        }
    }

    private void security() throws IOException {
        List<TextParameter> first = new ArrayList<>();
        first.add(new TextParameter(INITIATOR_NAME, options.initiatorName()));
        if (targetName != null) {
            first.add(new TextParameter(SESSION_TYPE, "Normal"));
            first.add(new TextParameter(TARGET_NAME, targetName));
        } else {
            first.add(new TextParameter(SESSION_TYPE, "Discovery"));
        }
        ChapConfig chap = options.chap();
        if (chap == null) {
            first.add(new TextParameter(AUTH_METHOD, OperationalOffer.NONE));
            LoginReply reply = exchange(STAGE_SECURITY, true, STAGE_OPERATIONAL, first);
            String method = reply.get(AUTH_METHOD);
            if (method != null && !OperationalOffer.NONE.equals(method)) {
                throw IscsiLoginException.local(describeTarget() + " requires authentication (AuthMethod="
                        + method + "); configure CHAP credentials");
            }
            awaitTransit(reply, STAGE_SECURITY, STAGE_OPERATIONAL);
            return;
        }
        // One-way CHAP also offers None, as libiscsi does: the target decides whether it needs
        // credentials. Mutual CHAP insists, because we want the target to prove itself.
        first.add(new TextParameter(AUTH_METHOD, chap.mutual() ? CHAP : CHAP + "," + OperationalOffer.NONE));
        LoginReply reply = exchange(STAGE_SECURITY, false, STAGE_OPERATIONAL, first);
        String method = reply.get(AUTH_METHOD);
        if (OperationalOffer.NONE.equals(method) && !chap.mutual()) {
            awaitTransit(reply, STAGE_SECURITY, STAGE_OPERATIONAL);
            return;
        }
        if (!CHAP.equals(method)) {
            throw IscsiLoginException.local(describeTarget() + " refused CHAP (AuthMethod=" + method + ")");
        }
        reply = exchange(STAGE_SECURITY, false, STAGE_OPERATIONAL,
                List.of(new TextParameter(CHAP_A, Chap.ALGORITHM_MD5)));
        if (!Chap.ALGORITHM_MD5.equals(reply.get(CHAP_A))) {
            throw IscsiLoginException.local(describeTarget() + " chose CHAP_A=" + reply.get(CHAP_A) + ", not MD5");
        }
        int identifier = parseIdentifier(reply.get(CHAP_I));
        byte[] challenge = Chap.decodeBinary(reply.get(CHAP_C));
        if (challenge == null || challenge.length == 0) {
            throw IscsiLoginException.local(describeTarget() + " sent a malformed CHAP_C");
        }
        List<TextParameter> answer = new ArrayList<>();
        answer.add(new TextParameter(CHAP_N, chap.username()));
        answer.add(new TextParameter(CHAP_R, Chap.encodeHex(Chap.response(identifier, chap.secret(), challenge))));
        int ourIdentifier = 0;
        byte[] ourChallenge = null;
        if (chap.mutual()) {
            ourIdentifier = RANDOM.nextInt(MAX_CHAP_IDENTIFIER + 1);
            ourChallenge = new byte[Chap.CHALLENGE_LENGTH];
            RANDOM.nextBytes(ourChallenge);
            answer.add(new TextParameter(CHAP_I, Integer.toString(ourIdentifier)));
            answer.add(new TextParameter(CHAP_C, Chap.encodeHex(ourChallenge)));
        }
        reply = exchange(STAGE_SECURITY, true, STAGE_OPERATIONAL, answer);
        if (chap.mutual()) {
            byte[] theirs = Chap.decodeBinary(reply.get(CHAP_R));
            if (!chap.mutualUsername().equals(reply.get(CHAP_N)) || theirs == null
                    || !MessageDigest.isEqual(Chap.response(ourIdentifier, chap.mutualSecret(), ourChallenge), theirs)) {
                throw IscsiLoginException.local(describeTarget() + " failed mutual CHAP authentication");
            }
        }
        awaitTransit(reply, STAGE_SECURITY, STAGE_OPERATIONAL);
    }

    private NegotiatedParameters operational() throws IOException {
        OperationalOffer offer = new OperationalOffer(options, targetName == null);
        List<TextParameter> offered = offer.offer();
        Set<String> offeredKeys = new HashSet<>();
        for (TextParameter p : offered) {
            offeredKeys.add(p.key());
        }
        java.util.Map<String, String> answers = new java.util.LinkedHashMap<>();
        LoginReply reply = exchange(STAGE_OPERATIONAL, true, STAGE_FULL_FEATURE, offered);
        answers.putAll(reply.keys());
        int rounds = 1;
        while (!(reply.header().transit() && reply.header().nextStage() == STAGE_FULL_FEATURE)) {
            if (++rounds > MAX_ROUNDS) {
                throw IscsiLoginException.local(describeTarget() + " did not finish operational negotiation in "
                        + MAX_ROUNDS + " rounds");
            }
            reply = exchange(STAGE_OPERATIONAL, true, STAGE_FULL_FEATURE, offer.answersTo(reply.keys(), offeredKeys));
            answers.putAll(reply.keys());
        }
        LoginResponseHeader h = reply.header();
        int erl = OperationalOffer.number(OperationalOffer.ERROR_RECOVERY_LEVEL,
                answers.get(OperationalOffer.ERROR_RECOVERY_LEVEL), 0, 0, 2);
        if (erl != 0) {
            throw IscsiLoginException.local("target negotiated ErrorRecoveryLevel=" + erl + " although we offered 0");
        }
        int max24 = InitiatorOptions.MAX_DATA_SEGMENT_LENGTH;
        int min = InitiatorOptions.MIN_DATA_SEGMENT_LENGTH;
        return new NegotiatedParameters(
                OperationalOffer.digest(OperationalOffer.HEADER_DIGEST, answers.get(OperationalOffer.HEADER_DIGEST),
                        options.headerDigest()),
                OperationalOffer.digest(OperationalOffer.DATA_DIGEST, answers.get(OperationalOffer.DATA_DIGEST),
                        options.dataDigest()),
                options.maxRecvDataSegmentLength(),
                OperationalOffer.number(OperationalOffer.MAX_RECV_DATA_SEGMENT_LENGTH,
                        answers.get(OperationalOffer.MAX_RECV_DATA_SEGMENT_LENGTH),
                        OperationalOffer.DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH, min, max24),
                OperationalOffer.number(OperationalOffer.MAX_BURST_LENGTH, answers.get(OperationalOffer.MAX_BURST_LENGTH),
                        OperationalOffer.DEFAULT_MAX_BURST_LENGTH, min, max24),
                OperationalOffer.number(OperationalOffer.FIRST_BURST_LENGTH,
                        answers.get(OperationalOffer.FIRST_BURST_LENGTH), OperationalOffer.DEFAULT_FIRST_BURST_LENGTH,
                        min, max24),
                OperationalOffer.bool(OperationalOffer.IMMEDIATE_DATA, answers.get(OperationalOffer.IMMEDIATE_DATA), true),
                OperationalOffer.bool(OperationalOffer.INITIAL_R2T, answers.get(OperationalOffer.INITIAL_R2T), true),
                h.tsih(),
                OperationalOffer.number(OperationalOffer.TARGET_PORTAL_GROUP_TAG,
                        answers.get(OperationalOffer.TARGET_PORTAL_GROUP_TAG), -1, 0, 0xffff),
                h.statSN(), h.expCmdSN(), h.maxCmdSN());
    }

    /** Sends empty requests with T=1 until the target also sets T (bounded). */
    private void awaitTransit(final LoginReply first, final int stage, final int next) throws IOException {
        LoginReply reply = first;
        int rounds = 1;
        while (!(reply.header().transit() && reply.header().nextStage() == next)) {
            if (++rounds > MAX_ROUNDS) {
                throw IscsiLoginException.local(describeTarget() + " did not leave login stage " + stage);
            }
            reply = exchange(stage, true, next, List.of());
        }
    }

    /** One request and its complete response (joining C-bit continuations, §6.1). */
    private LoginReply exchange(final int stage, final boolean transit, final int next,
                                final List<TextParameter> keys) throws IOException {
        send(stage, transit, next, keys);
        TextAssembler text = new TextAssembler();
        while (true) {
            Pdu pdu = connection.receive();
            if (pdu.opcode() != Opcode.LOGIN_RESPONSE) {
                throw IscsiLoginException.local(describeTarget() + " answered a login request with " + pdu.opcode());
            }
            LoginResponseHeader h = new LoginResponseHeader(pdu.bhs());
            if (h.initiatorTaskTag() != LOGIN_TASK_TAG) {
                throw IscsiLoginException.local("login response with a foreign task tag");
            }
            if (h.statusClass() != 0) {
                throw new IscsiLoginException("login to " + describeTarget() + " as " + options.initiatorName()
                        + " refused", h.statusClass(), h.statusDetail());
            }
            if (h.versionActive() != VERSION) {
                throw IscsiLoginException.local(describeTarget() + " speaks iSCSI version " + h.versionActive());
            }
            expStatSN = h.statSN() + 1;
            gotResponse = true;
            if (!text.append(pdu.data())) {
                throw IscsiLoginException.local(describeTarget() + " sent more than " + TextCodec.DEFAULT_MAX_TEXT_LENGTH
                        + " bytes of login text");
            }
            if (!h.continueFlag()) {
                TextCodec.ParseResult parsed = TextCodec.decode(text.take());
                if (parsed instanceof TextCodec.ParseResult.Invalid invalid) {
                    throw IscsiLoginException.local(describeTarget() + " sent malformed login text: " + invalid.reason());
                }
                return LoginReply.of(h, ((TextCodec.ParseResult.Parsed) parsed).parameters());
            }
            // §6.1: acknowledge a partial response with an empty request to get the rest
            send(stage, false, next, List.of());
        }
    }

    private void send(final int stage, final boolean transit, final int next, final List<TextParameter> keys)
            throws IOException {
        LoginRequestHeader h = LoginRequestHeader.create();
        h.transit(transit).currentStage(stage).nextStage(transit ? next : 0)
                .versionMax(VERSION).versionMin(VERSION).isid(isid).tsih(0).cid(0)
                .cmdSN(cmdSN).expStatSN(gotResponse ? expStatSN : 0);
        h.initiatorTaskTag(LOGIN_TASK_TAG);
        connection.send(Pdu.of(h, TextCodec.encode(keys)));
    }

    private int parseIdentifier(final String value) throws IscsiLoginException {
        try {
            int id = Integer.parseInt(value);
            if (id < 0 || id > MAX_CHAP_IDENTIFIER) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw IscsiLoginException.local(describeTarget() + " sent a malformed CHAP_I=" + value);
        }
    }

    private String describeTarget() {
        return (targetName != null ? targetName : "discovery") + " at " + connection.peer();
    }
}
