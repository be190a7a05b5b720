package dev.virtman.iscsi.login;

import dev.virtman.iscsi.pdu.LoginRequestHeader;
import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.Opcode;
import dev.virtman.iscsi.pdu.Pdu;
import dev.virtman.iscsi.pdu.TextAssembler;
import dev.virtman.iscsi.pdu.TextCodec;
import dev.virtman.iscsi.pdu.TextParameter;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of the login phase of one connection (RFC 7143 §6.3, §11.12, §11.13): turns
 * each Login Request into a Login Response, walking the stages
 *
 * <pre>
 *   SecurityNegotiation (0) --T--&gt; LoginOperationalNegotiation (1) --T--&gt; FullFeaturePhase (3)
 *              \_______________________T_______________________/
 * </pre>
 *
 * It selects the target (TargetName), checks the initiator allow-list, runs CHAP when the target
 * has credentials, negotiates operational keys through {@link OperationalNegotiator}, honours the
 * C bit (text continued across PDUs) and the T bit (the target only transits when the initiator
 * asked to and the stage's requirements are met), and allocates the TSIH in the final response.
 * Any failure yields a response with status class 2 or 3, after which the connection closes.
 */
public final class LoginNegotiator {

    private static final Logger LOG = LoggerFactory.getLogger(LoginNegotiator.class);

    /** Version-max and Version-active: RFC 7143 only defines 0x00 (§11.12.4). */
    private static final int VERSION = 0x00;

    /** What to do after a login request. */
    public sealed interface Step {
        Pdu response();

        /** Send the response and wait for the next Login Request. */
        record Continue(Pdu response) implements Step {
        }

        /** Send the response; the connection is now in the full feature phase. */
        record Complete(Pdu response, LoginResult result) implements Step {
        }

        /** Send the (failure) response and close the connection (§6.3.1: class 2/3 ends the login). */
        record Fail(Pdu response, LoginStatus status, String reason) implements Step {
        }
    }

    private final Function<String, LoginTarget> targets;
    private final TargetLoginSettings settings;
    private final IntSupplier tsihAllocator;
    private final SecureRandom random;
    private final TextAssembler text = new TextAssembler();

    private boolean first = true;
    private long isid;
    private int tsihRequested;
    private int cid;
    private LoginStage stage;
    private String initiatorName;
    private boolean discovery;
    private LoginTarget target;
    private boolean sentPortalGroupTag;
    private boolean authMethodChosen;
    private boolean authenticated;
    private ChapTargetAuthenticator chap;
    private OperationalNegotiator operational;

    /**
     * @param targets       target name to target, {@code null} when no such target
     * @param settings      the target's operational offers
     * @param tsihAllocator hands out a fresh non-zero TSIH per new session
     * @param random        for CHAP challenges
     */
    public LoginNegotiator(final Function<String, LoginTarget> targets, final TargetLoginSettings settings,
                           final IntSupplier tsihAllocator, final SecureRandom random) {
        this.targets = targets;
        this.settings = settings;
        this.tsihAllocator = tsihAllocator;
        this.random = random;
    }

    /** Handles one Login Request PDU (the caller has checked the opcode). */
    public Step onRequest(final Pdu request) {
        LoginRequestHeader req = new LoginRequestHeader(request.bhs());
        if (req.opcode() != Opcode.LOGIN_REQUEST) {
            return fail(req, LoginStatus.INVALID_DURING_LOGIN, "non-login PDU during login: " + req.opcode());
        }
        if (first) {
            if (req.versionMin() > VERSION) {
                return fail(req, LoginStatus.UNSUPPORTED_VERSION, "Version-min " + req.versionMin());
            }
            isid = req.isid();
            tsihRequested = req.tsih();
            cid = req.cid();
            stage = LoginStage.fromCode(req.currentStage());
            if (stage == null || stage == LoginStage.FULL_FEATURE_PHASE) {
                return fail(req, LoginStatus.INITIATOR_ERROR, "login cannot start in stage " + req.currentStage());
            }
            if (tsihRequested != 0) {
                // Adding a connection to an existing session: MaxConnections=1 and ERL 0 (§13.2, §6.3.4)
                return fail(req, LoginStatus.SESSION_DOES_NOT_EXIST, "TSIH " + tsihRequested + " (one connection per session)");
            }
            first = false;
        } else if (req.isid() != isid || req.tsih() != tsihRequested) {
            return fail(req, LoginStatus.INITIATOR_ERROR, "ISID/TSIH changed during login");
        }
        if (LoginStage.fromCode(req.currentStage()) != stage) {
            return fail(req, LoginStatus.INITIATOR_ERROR, "CSG " + req.currentStage() + " but login is in " + stage);
        }
        if (!text.append(request.data())) {
            return fail(req, LoginStatus.INITIATOR_ERROR, "login text too long");
        }
        if (req.continueFlag()) {
            // §6.1: the initiator's text continues; answer with an empty response, T=0 C=0
            if (req.transit()) {
                return fail(req, LoginStatus.INITIATOR_ERROR, "T and C bits both set (§11.12.2)");
            }
            return new Step.Continue(response(req, false, 0, List.of(), 0));
        }
        TextCodec.ParseResult parsed = TextCodec.decode(text.take());
        if (parsed instanceof TextCodec.ParseResult.Invalid invalid) {
            return fail(req, LoginStatus.INITIATOR_ERROR, "bad login text: " + invalid.reason());
        }
        return negotiate(req, ((TextCodec.ParseResult.Parsed) parsed).parameters());
    }

    private Step negotiate(final LoginRequestHeader req, final List<TextParameter> params) {
        LOG.debug("login stage {} keys {}", stage, params);
        Map<String, String> keys = new LinkedHashMap<>();
        List<TextParameter> rest = new ArrayList<>();
        for (TextParameter p : params) {
            switch (p.key()) {
                case "InitiatorName", "TargetName", "SessionType", "AuthMethod" -> keys.put(p.key(), p.value());
                default -> {
                    if (p.key().startsWith("CHAP_")) {
                        keys.put(p.key(), p.value());
                    } else {
                        rest.add(p);
                    }
                }
            }
        }
        List<TextParameter> out = new ArrayList<>();

        if (initiatorName == null) {
            Step s = identify(req, keys, out);
            if (s != null) {
                return s;
            }
        }

        if (stage == LoginStage.SECURITY_NEGOTIATION) {
            Step s = security(req, keys, out);
            if (s != null) {
                return s;
            }
        } else if (keys.containsKey("AuthMethod") || keys.keySet().stream().anyMatch(k -> k.startsWith("CHAP_"))) {
            return fail(req, LoginStatus.INITIATOR_ERROR, "security keys outside the security stage");
        }

        if (operational == null) {
            operational = new OperationalNegotiator(settings, discovery);
        }
        if (!rest.isEmpty() || stage == LoginStage.LOGIN_OPERATIONAL_NEGOTIATION) {
            // Offered keys are answered in any stage, but the target's own declarations wait for
            // the operational stage: open-iscsi fails a login whose security-stage response
            // carries an operational key it did not offer (it sends InitiatorAlias there).
            operational.negotiate(rest, out, stage == LoginStage.LOGIN_OPERATIONAL_NEGOTIATION);
        }

        // Decide whether to transit (§6.3: the target may transit only when the initiator asked to).
        boolean transit = false;
        int next = 0;
        if (req.transit()) {
            LoginStage nsg = LoginStage.fromCode(req.nextStage());
            if (nsg == null || nsg.code() <= stage.code()) {
                return fail(req, LoginStatus.INITIATOR_ERROR, "bad NSG " + req.nextStage() + " from " + stage);
            }
            boolean ready = stage != LoginStage.SECURITY_NEGOTIATION || authenticated;
            if (ready) {
                transit = true;
                next = nsg.code();
            }
        }
        if (transit && next == LoginStage.FULL_FEATURE_PHASE.code()) {
            int tsih = tsihAllocator.getAsInt();
            LoginResult result = new LoginResult(discovery, initiatorName, target, isid, tsih, cid, operational.result());
            return new Step.Complete(response(req, true, next, out, tsih), result);
        }
        if (transit) {
            stage = LoginStage.fromCode(next);
        }
        return new Step.Continue(response(req, transit, next, out, 0));
    }

    /** First complete text: who is the initiator, which session type and target. */
    private Step identify(final LoginRequestHeader req, final Map<String, String> keys, final List<TextParameter> out) {
        initiatorName = keys.get("InitiatorName");
        if (initiatorName == null || initiatorName.isEmpty()) {
            return fail(req, LoginStatus.MISSING_PARAMETER, "no InitiatorName in the first login request");
        }
        String sessionType = keys.getOrDefault("SessionType", "Normal");
        switch (sessionType) {
            case "Discovery" -> discovery = true;
            case "Normal" -> discovery = false;
            default -> {
                return fail(req, LoginStatus.SESSION_TYPE_NOT_SUPPORTED, "SessionType=" + sessionType);
            }
        }
        if (!discovery) {
            String name = keys.get("TargetName");
            if (name == null || name.isEmpty()) {
                return fail(req, LoginStatus.MISSING_PARAMETER, "normal session without TargetName");
            }
            target = targets.apply(name);
            if (target == null) {
                return fail(req, LoginStatus.NOT_FOUND, "no target " + name);
            }
            if (!target.admits(initiatorName)) {
                return fail(req, LoginStatus.AUTHORIZATION_FAILURE, "initiator not authorized: " + initiatorName
                        + " is not allowed on " + name);
            }
            if (settings.targetAlias() != null) {
                out.add(new TextParameter("TargetAlias", settings.targetAlias()));
            }
        }
        if (!sentPortalGroupTag) {
            // §13.9: the target returns its portal group tag in the first login response
            sentPortalGroupTag = true;
            out.add(new TextParameter("TargetPortalGroupTag", Integer.toString(settings.targetPortalGroupTag())));
        }
        if (stage == LoginStage.LOGIN_OPERATIONAL_NEGOTIATION) {
            if (requiresChap()) {
                return fail(req, LoginStatus.AUTHENTICATION_FAILURE, "target requires CHAP but initiator skipped security");
            }
            authenticated = true;
        }
        return null;
    }

    private boolean requiresChap() {
        return !discovery && target.chap() != null;
    }

    /** Security stage: choose the AuthMethod and run CHAP. */
    private Step security(final LoginRequestHeader req, final Map<String, String> keys, final List<TextParameter> out) {
        String methods = keys.get("AuthMethod");
        if (!authMethodChosen) {
            if (methods == null) {
                if (requiresChap()) {
                    // the initiator may still send AuthMethod later, but not if it wants to leave the stage
                    if (req.transit()) {
                        return fail(req, LoginStatus.AUTHENTICATION_FAILURE, "no AuthMethod offered");
                    }
                    return null;
                }
                authenticated = true;
                return null;
            }
            List<String> offered = List.of(methods.split(",", -1));
            String chosen = requiresChap() ? (offered.contains("CHAP") ? "CHAP" : null)
                    : (offered.contains("None") ? "None" : null);
            if (chosen == null) {
                out.add(new TextParameter("AuthMethod", OperationalNegotiator.REJECT));
                return fail(req, LoginStatus.AUTHENTICATION_FAILURE, "AuthMethod=" + methods + " not acceptable");
            }
            authMethodChosen = true;
            out.add(new TextParameter("AuthMethod", chosen));
            if (chosen.equals("CHAP")) {
                chap = new ChapTargetAuthenticator(target.chap(), random);
            } else {
                authenticated = true;
            }
        }
        if (chap != null && !authenticated) {
            switch (chap.onKeys(keys, out)) {
                case SUCCEEDED -> authenticated = true;
                case FAILED -> {
                    return fail(req, LoginStatus.AUTHENTICATION_FAILURE, chap.failure());
                }
                case PENDING -> {
                    // more CHAP steps follow
                }
                default -> throw new IllegalStateException();
            }
        }
        return null;
    }

    private Pdu response(final LoginRequestHeader req, final boolean transit, final int next,
                         final List<TextParameter> keys, final int tsih) {
        // CSG echoes the request's stage even when this response transits (§11.13.3); `stage`
        // has already moved on by then. open-iscsi fails the login on a mismatch.
        LoginResponseHeader resp = LoginResponseHeader.create()
                .transit(transit)
                .currentStage(req.currentStage())
                .nextStage(transit ? next : 0)
                .versionMax(VERSION)
                .versionActive(VERSION)
                .isid(req.isid())
                .tsih(tsih)
                .statusClass(LoginStatus.SUCCESS.statusClass())
                .statusDetail(LoginStatus.SUCCESS.statusDetail());
        resp.initiatorTaskTag(req.initiatorTaskTag());
        ByteBuffer data = keys.isEmpty() ? ByteBuffer.allocate(0) : TextCodec.encode(keys);
        return Pdu.of(resp, data);
    }

    private Step fail(final LoginRequestHeader req, final LoginStatus status, final String reason) {
        if (status.equals(LoginStatus.AUTHORIZATION_FAILURE)) {
            // Anyone can knock: the target server counts these and logs one line per interval.
            LOG.debug("login rejected ({}): {}", status, reason);
        } else {
            LOG.info("login rejected ({}): {}", status, reason);
        }
        LoginResponseHeader resp = LoginResponseHeader.create()
                .currentStage(stage == null ? 0 : stage.code())
                .versionMax(VERSION)
                .versionActive(VERSION)
                .isid(req.isid())
                .tsih(0)
                .statusClass(status.statusClass())
                .statusDetail(status.statusDetail());
        resp.initiatorTaskTag(req.initiatorTaskTag());
        return new Step.Fail(Pdu.of(resp), status, reason);
    }
}
