package dev.virtman.cli;

import dev.virtman.manager.api.HostView;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code virtman hosts}: the agents known to the manager and their liveness. */
@Command(name = "hosts", mixinStandardHelpOptions = true, description = "List hosts known to the manager.")
public final class HostsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;
    @Mixin
    ManagerClientOptions options;

    @Override
    public Integer call() throws Exception {
        return ClientCommands.run(spec, () -> {
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%-20s  %-22s  %-10s  %-10s  %-8s  %9s  %s%n", "HOST", "ADDRESS", "RACK", "ZONE", "STATE",
                    "SEEN(ms)", "IMAGES");
            for (HostView h : options.client().hosts()) {
                out.printf("%-20s  %-22s  %-10s  %-10s  %-8s  %9s  %s%n", h.hostId(), h.address(),
                        dash(h.labels().rack()), dash(h.labels().zone()), h.state(),
                        h.lastSeenMillisAgo() < 0 ? "-" : Long.toString(h.lastSeenMillisAgo()),
                        h.images().isEmpty() ? "-" : String.join(",", h.images()));
            }
            return 0;
        });
    }

    private static String dash(final String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
