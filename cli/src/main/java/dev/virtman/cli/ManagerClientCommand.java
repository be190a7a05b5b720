package dev.virtman.cli;

import dev.virtman.manager.client.ManagerClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that makes one request of the manager and prints the answer: the manager's location
 * options ({@link ManagerClientOptions}), and {@link ClientCommands}' one-line error and exit 1
 * when the manager refuses or cannot be reached. picocli reads these inherited fields like the
 * subclass's own.
 */
abstract class ManagerClientCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ManagerClientOptions options;

    /** Asks {@code client} and prints the result to {@code out}; exit 0 unless it throws. */
    abstract void run(ManagerClient client, PrintWriter out) throws Exception;

    @Override
    public final Integer call() throws Exception {
        return ClientCommands.run(spec, () -> {
            run(options.client(), spec.commandLine().getOut());
            return 0;
        });
    }
}
