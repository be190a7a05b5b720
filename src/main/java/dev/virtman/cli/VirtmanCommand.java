package dev.virtman.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code virtman} command: one launcher, one subcommand per job. */
@Command(name = "virtman",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Boot many identical VMs fast: lazy, verified, tree-distributed images over iSCSI.",
        subcommands = {
                CommandLine.HelpCommand.class,
                ManifestCommand.class,
                ManagerCommand.class, ImageCommand.class, HostsCommand.class, TreeCommand.class,
                ServeCommand.class,
                AgentCommand.class,
                IscsiReadCommand.class,
        })
public final class VirtmanCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(final String[] args) {
        int exit = new CommandLine(new VirtmanCommand()).execute(args);
        System.exit(exit);
    }
}
