package dev.virtman.iscsi.login;

import dev.virtman.iscsi.pdu.TextParameter;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The target's half of a CHAP exchange during the security negotiation stage (RFC 7143 §12.1.3):
 *
 * <pre>
 *   I-&gt;T  CHAP_A=&lt;A1,A2...&gt;
 *   T-&gt;I  CHAP_A=5 CHAP_I=&lt;id&gt; CHAP_C=&lt;challenge&gt;
 *   I-&gt;T  CHAP_N=&lt;name&gt; CHAP_R=&lt;response&gt; [CHAP_I=&lt;id&gt; CHAP_C=&lt;challenge&gt;]   (mutual part optional)
 *   T-&gt;I  [CHAP_N=&lt;name&gt; CHAP_R=&lt;response&gt;]
 * </pre>
 *
 * Challenges come from {@link SecureRandom}; responses are compared in constant time; an
 * initiator challenge equal to ours is refused (reflection attack, §12.1.3).
 */
public final class ChapTargetAuthenticator {

    /** Where the exchange stands. */
    public enum Outcome { PENDING, SUCCEEDED, FAILED }

    private enum State { AWAIT_ALGORITHM, AWAIT_RESPONSE, DONE, FAILED }

    private static final int IDENTIFIER_RANGE = 256;

    private final ChapConfig config;
    private final int identifier;
    private final byte[] challenge;
    private State state = State.AWAIT_ALGORITHM;
    private String failure = "";

    public ChapTargetAuthenticator(final ChapConfig config, final SecureRandom random) {
        this.config = config;
        this.identifier = random.nextInt(IDENTIFIER_RANGE);
        this.challenge = new byte[Chap.CHALLENGE_LENGTH];
        random.nextBytes(challenge);
    }

    /** Why the exchange failed (for logs; never contains secrets). */
    public String failure() {
        return failure;
    }

    /** Consumes the CHAP keys of one login request, appending the target's keys to {@code out}. */
    public Outcome onKeys(final Map<String, String> keys, final List<TextParameter> out) {
        switch (state) {
            case AWAIT_ALGORITHM -> {
                String algorithms = keys.get("CHAP_A");
                if (algorithms == null) {
                    return Outcome.PENDING;
                }
                if (!Arrays.asList(algorithms.split(",", -1)).contains(Chap.ALGORITHM_MD5)) {
                    out.add(new TextParameter("CHAP_A", OperationalNegotiator.REJECT));
                    return fail("initiator offers no MD5 CHAP (CHAP_A=" + algorithms + ")");
                }
                out.add(new TextParameter("CHAP_A", Chap.ALGORITHM_MD5));
                out.add(new TextParameter("CHAP_I", Integer.toString(identifier)));
                out.add(new TextParameter("CHAP_C", Chap.encodeHex(challenge)));
                state = State.AWAIT_RESPONSE;
                return Outcome.PENDING;
            }
            case AWAIT_RESPONSE -> {
                return verify(keys, out);
            }
            case DONE -> {
                return Outcome.SUCCEEDED;
            }
            default -> {
                return Outcome.FAILED;
            }
        }
    }

    private Outcome verify(final Map<String, String> keys, final List<TextParameter> out) {
        String name = keys.get("CHAP_N");
        byte[] response = Chap.decodeBinary(keys.get("CHAP_R"));
        if (name == null || response == null) {
            return fail("CHAP_N or CHAP_R missing or malformed");
        }
        byte[] expected = Chap.response(identifier, config.secret(), challenge);
        boolean nameOk = MessageDigest.isEqual(name.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                config.username().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (!(MessageDigest.isEqual(expected, response) & nameOk)) {
            return fail("CHAP response does not match for user '" + name + "'");
        }
        String peerId = keys.get("CHAP_I");
        String peerChallenge = keys.get("CHAP_C");
        if (peerId != null || peerChallenge != null) {
            if (!config.mutual()) {
                return fail("initiator asks for mutual CHAP, which this target has no credentials for");
            }
            long id = OperationalNegotiator.parseNumber(peerId, 0, IDENTIFIER_RANGE - 1);
            byte[] c = Chap.decodeBinary(peerChallenge);
            if (id < 0 || c == null || c.length == 0) {
                return fail("malformed mutual CHAP_I/CHAP_C");
            }
            if (Arrays.equals(c, challenge)) {
                return fail("initiator reflected the target's challenge");
            }
            out.add(new TextParameter("CHAP_N", config.mutualUsername()));
            out.add(new TextParameter("CHAP_R", Chap.encodeHex(Chap.response((int) id, config.mutualSecret(), c))));
        }
        state = State.DONE;
        return Outcome.SUCCEEDED;
    }

    private Outcome fail(final String why) {
        failure = why;
        state = State.FAILED;
        return Outcome.FAILED;
    }
}
