package dev.virtman.iscsi.target;

import dev.virtman.iscsi.login.LoginResult;
import dev.virtman.iscsi.login.SessionParameters;
import java.nio.ByteBuffer;

/**
 * What every full-feature-phase handler of one connection shares, fixed at login (RFC 7143
 * §6.3): the server's context, the connection and its writer, the command window, the login's
 * outcome and negotiated parameters, and the target (null in a discovery session).
 */
record FullFeatureSession(TargetContext context, TargetConnection connection, ResponseWriter writer,
                          CommandWindow window, LoginResult login, SessionParameters parameters,
                          ExportedTarget target) {

    boolean discovery() {
        return login.discovery();
    }

    /** Opens the command window by one for a finished non-immediate command (§4.2.2.1). */
    void windowDone(final boolean immediate) {
        if (!immediate) {
            window.finished();
        }
    }

    void reject(final int reason, final ByteBuffer offendingBhs) {
        connection.reject(reason, offendingBhs);
    }

    void send(final ResponseWriter.Outbound pdu) {
        writer.send(pdu);
    }
}
