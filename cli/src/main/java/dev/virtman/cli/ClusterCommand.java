package dev.virtman.cli;

import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.client.ManagerClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code virtman cluster}: the managers sharing the state, the leader, the etcd endpoints' health. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Show the managers, which one leads, and the health of the etcd endpoints.")
public final class ClusterCommand extends ManagerClientCommand {

    @Override
    void run(final ManagerClient client, final PrintWriter out) throws Exception {
        ClusterView c = client.cluster();
        out.printf("backend: %s%nleader:  %s%n", c.backend(), c.leader() == null ? "(none elected)" : c.leader());
        out.printf("%-8s  %s%n", "ROLE", "MANAGER");
        for (ClusterView.Member m : c.managers()) {
            out.printf("%-8s  %s%s%n", m.leader() ? "leader" : "follower", m.url(),
                    m.url().equals(c.self()) ? "  (answered)" : "");
        }
        if (!c.etcd().isEmpty()) {
            out.printf("%-9s  %s%n", "ETCD", "ENDPOINT");
            for (ClusterView.Endpoint e : c.etcd()) {
                out.printf("%-9s  %s%s%n", e.healthy() ? "healthy" : "unhealthy", e.url(),
                        e.error() == null ? "" : "  (" + e.error() + ")");
            }
        }
    }
}
