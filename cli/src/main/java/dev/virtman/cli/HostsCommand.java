package dev.virtman.cli;

import dev.virtman.manager.api.HostView;
import dev.virtman.manager.client.ManagerClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code virtman hosts}: the agents known to the manager and their liveness. */
@Command(name = "hosts", mixinStandardHelpOptions = true, description = "List hosts known to the manager.")
public final class HostsCommand extends ManagerClientCommand {

    @Override
    void run(final ManagerClient client, final PrintWriter out) throws Exception {
        out.printf("%-20s  %-22s  %-10s  %-10s  %-8s  %9s  %s%n", "HOST", "ADDRESS", "RACK", "ZONE", "STATE",
                "SEEN(ms)", "IMAGES");
        for (HostView h : client.hosts()) {
            out.printf("%-20s  %-22s  %-10s  %-10s  %-8s  %9s  %s%n", h.hostId(), h.address(),
                    dash(h.labels().rack()), dash(h.labels().zone()), h.state(),
                    h.lastSeenMillisAgo() < 0 ? "-" : Long.toString(h.lastSeenMillisAgo()),
                    h.images().isEmpty() ? "-" : String.join(",", h.images()));
        }
    }

    private static String dash(final String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
