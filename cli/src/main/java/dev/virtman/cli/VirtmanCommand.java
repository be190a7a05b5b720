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
                ManagerCommand.class, ClusterCommand.class, ImageCommand.class, HostsCommand.class, TreeCommand.class, VolumeCommand.class,
                ServeCommand.class,
                AgentCommand.class,
                IscsiReadCommand.class,
                SimCommand.class,
                BootCommand.class, VmsCommand.class, VmsCommand.Stop.class, VmsCommand.Destroy.class,
                CertsCommand.class,
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
        CommandLine cl = commandLine(new VirtmanCommand());
        String[] expanded;
        try {
            expanded = withConfigFile(cl, args);
        } catch (CommandLine.ParameterException e) {
            System.exit(handle(cl, e, args));
            return;
        }
        System.exit(cl.execute(expanded));
    }

    /** {@code virtman COMMAND --config FILE ...}: the file's options before the command line's (ConfigFile). */
    static String[] withConfigFile(final CommandLine root, final String[] args) {
        if (args.length == 0) {
            return args;
        }
        CommandLine sub = root.getSubcommands().get(args[0]);
        if (sub == null || sub.getCommandSpec().findOption(ConfigFile.OPTION) == null) {
            return args;
        }
        String[] rest = ConfigFile.expand(sub, java.util.Arrays.copyOfRange(args, 1, args.length));
        String[] out = new String[rest.length + 1];
        out[0] = args[0];
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    private static int handle(final CommandLine root, final CommandLine.ParameterException e, final String[] args) {
        try {
            return root.getParameterExceptionHandler().handleParseException(e, args);
        } catch (Exception unexpected) {
            return 2;
        }
    }
}
