package dev.virtman.iscsi.target;

import dev.virtman.iscsi.pdu.TextParameter;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers the SendTargets text key (RFC 7143 §13.21 and Appendix C): for each target a
 * {@code TargetName} followed by its {@code TargetAddress=host:port,tpgt}. When the server is
 * bound to a wildcard address, the address given is the one this connection arrived on, which is
 * the one the initiator can reach.
 */
final class SendTargetsResponder {

    private SendTargetsResponder() {
    }

    /**
     * @param value        the SendTargets value: {@code All}, a target name, or empty
     * @param discovery    whether the session is a discovery session
     * @param targets      all exported targets
     * @param sessionIqn   the normal session's target name, or {@code null}
     * @param portal       the address to advertise
     * @param portalGroup  the target portal group tag
     */
    static List<TextParameter> answer(final String value, final boolean discovery, final List<ExportedTarget> targets,
                                      final String sessionIqn, final InetSocketAddress portal, final int portalGroup) {
        List<TextParameter> out = new ArrayList<>();
        String address = hostLiteral(portal.getAddress()) + ":" + portal.getPort() + "," + portalGroup;
        for (ExportedTarget t : targets) {
            boolean include;
            if (value.equals("All")) {
                include = discovery || t.iqn().equals(sessionIqn);
            } else if (value.isEmpty()) {
                include = !discovery && t.iqn().equals(sessionIqn);
            } else {
                include = t.iqn().equals(value) && (discovery || t.iqn().equals(sessionIqn));
            }
            if (include) {
                out.add(new TextParameter("TargetName", t.iqn()));
                out.add(new TextParameter("TargetAddress", address));
            }
        }
        return out;
    }

    private static String hostLiteral(final InetAddress address) {
        String host = address.getHostAddress();
        int zone = host.indexOf('%');
        if (zone >= 0) {
            host = host.substring(0, zone);
        }
        return address instanceof Inet6Address ? "[" + host + "]" : host;
    }
}
