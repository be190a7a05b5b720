package dev.virtman.cli;

import dev.virtman.manager.client.ManagerClientException;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** Shared error handling of the manager client commands: one clear line on stderr, exit 1. */
final class ClientCommands {

    static final int FAILED = 1;

    private ClientCommands() {
    }

    /** Runs a client action, turning a {@link ManagerClientException} into a message and exit code. */
    static int run(final CommandLine.Model.CommandSpec spec, final Callable<Integer> action) throws Exception {
        try {
            return action.call();
        } catch (ManagerClientException e) {
            spec.commandLine().getErr().println("virtman: " + e.getMessage());
            return FAILED;
        }
    }
}
