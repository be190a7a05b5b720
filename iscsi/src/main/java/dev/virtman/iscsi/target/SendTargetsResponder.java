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
 *
 * <p>A discovery session lists only targets its initiator could log in to: those whose allow list
 * admits its name, and none protected by CHAP (discovery sessions are not authenticated, so the
 * initiator has not shown it holds a target's secret). A target's name is itself information: a
 * volume's IQN names a tenant's volume. Initiators that hold CHAP credentials are given the target
 * name with them (Cinder's connection properties) and need no discovery.
 */
final class SendTargetsResponder {

    private SendTargetsResponder() {
    }

    /**
     * @param value        the SendTargets value: {@code All}, a target name, or empty
     * @param discovery    whether the session is a discovery session
     * @param initiator    the session's initiator name
     * @param targets      all exported targets
     * @param sessionIqn   the normal session's target name, or {@code null}
     * @param portal       the address to advertise
     * @param portalGroup  the target portal group tag
     */
    static List<TextParameter> answer(final String value, final boolean discovery, final String initiator,
                                      final List<ExportedTarget> targets,
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
            if (include && discovery && !visibleTo(t, initiator)) {
                include = false;
            }
            if (include) {
                out.add(new TextParameter("TargetName", t.iqn()));
                out.add(new TextParameter("TargetAddress", address));
            }
        }
        return out;
    }

    private static boolean visibleTo(final ExportedTarget target, final String initiator) {
        return target.chap() == null && target.loginTarget().admits(initiator);
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
