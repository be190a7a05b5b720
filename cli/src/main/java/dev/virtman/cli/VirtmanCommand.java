package dev.virtman.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code virtman} command: one launcher, one subcommand per job. */
@Command(name = "virtman",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Boot many identical VMs fast: lazy, verified, tree-distributed images over iSCSI.",
        footer = {"", "Benchmarks (virtman bench storm ...) ship in a separate jar, target/virtman-bench.jar;"
                + " the ./virtman launcher runs it for 'virtman bench'."},
        subcommands = {
                CommandLine.HelpCommand.class,
                ManifestCommand.class,
                ManagerCommand.class, ImageCommand.class, HostsCommand.class, TreeCommand.class, VolumeCommand.class,
                ServeCommand.class,
                AgentCommand.class,
                IscsiReadCommand.class,
                SimCommand.class,
                BootCommand.class, VmsCommand.class, VmsCommand.Stop.class, VmsCommand.Destroy.class,
        })
public final class VirtmanCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * A failed command prints one clear line, not a stack trace; VIRTMAN_DEBUG=1 shows the trace.
     */
    private static int reportFailure(final Exception e, final CommandLine cl, final CommandLine.ParseResult parsed) {
        String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        cl.getErr().println("virtman " + cl.getCommandName() + ": " + message);
        if (System.getenv("VIRTMAN_DEBUG") != null) {
            e.printStackTrace(cl.getErr());
        }
        cl.getErr().flush();
        return 1;
    }

    /** {@code command} ready to execute, failures reported as one line (also used by the bench jar). */
    public static CommandLine commandLine(final Object command) {
        return new CommandLine(command).setExecutionExceptionHandler(VirtmanCommand::reportFailure);
    }

    public static void main(final String[] args) {
        System.exit(commandLine(new VirtmanCommand()).execute(args));
    }
}
