package dev.virtman.cli;

import dev.virtman.boot.BootDirs;
import dev.virtman.vm.VmInventory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import dev.virtman.manager.api.HostVmsView;
import dev.virtman.manager.client.ManagerClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code virtman vms}, {@code virtman stop}, {@code virtman destroy}: the VMs a boot left running. */
@Command(name = "vms", mixinStandardHelpOptions = true, description = "List the VMs of virtman boot (state, overlay size).")
public final class VmsCommand implements Callable<Integer> {

    /** Options every VM lifecycle command shares. */
    static final class Where {
        @Option(names = "--work-dir", paramLabel = "DIR", description = "virtman boot's state directory (default: ~/.local/state/virtman/boot)")
        Path workDir;

        VmInventory inventory() {
            return new VmInventory(BootDirs.vmDir(workDir != null ? workDir : BootDirs.defaultWorkDir()));
        }
    }

    @CommandLine.Mixin
    Where where;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        List<VmInventory.Entry> vms = where.inventory().list();
        if (vms.isEmpty()) {
            out.println("no VMs");
            return 0;
        }
        out.printf(Locale.ROOT, "%-16s %-8s %-8s %s%n", "NAME", "STATE", "PID", "OVERLAY");
        for (VmInventory.Entry vm : vms) {
            out.printf(Locale.ROOT, "%-16s %-8s %-8s %d KiB%n", vm.name(), vm.state(),
                    vm.pid().map(String::valueOf).orElse("-"), vm.overlayBytes() / 1024);
        }
        return 0;
    }

    /** Which VMs a lifecycle command acts on: names, or --all. */
    static final class Selection {
        @CommandLine.Parameters(paramLabel = "NAME", arity = "0..*")
        List<String> names;

        @Option(names = "--all")
        boolean all;

        List<VmInventory.Entry> resolve(final CommandLine cl, final VmInventory inventory) throws IOException {
            return select(cl, inventory, names, all);
        }
    }

    /** Resolves VM names (or --all) to inventory entries, with a clear error for unknown names. */
    static List<VmInventory.Entry> select(final CommandLine cl, final VmInventory inventory, final List<String> names,
                                          final boolean all) throws IOException {
        if (all == (names != null && !names.isEmpty())) {
            throw new CommandLine.ParameterException(cl, "name one or more VMs, or give --all");
        }
        if (all) {
            return inventory.list();
        }
        List<VmInventory.Entry> out = new ArrayList<>();
        for (String n : names) {
            out.add(inventory.find(n).orElseThrow(() -> new CommandLine.ParameterException(cl,
                    "no VM named " + n + " (see virtman vms)")));
        }
        return out;
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Power VMs down (ACPI, then forced after the grace period).")
    public static final class Stop implements Callable<Integer> {
        @CommandLine.Mixin
        Selection selection;

        @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "30", description = "default: ${DEFAULT-VALUE}")
        int graceSeconds;

        @CommandLine.Mixin
        Where where;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            VmInventory inventory = where.inventory();
            for (VmInventory.Entry vm : selection.resolve(spec.commandLine(), inventory)) {
                inventory.stop(vm, Duration.ofSeconds(graceSeconds));
                spec.commandLine().getOut().println("stopped " + vm.name());
            }
            return 0;
        }
    }

    @Command(name = "destroy", mixinStandardHelpOptions = true,
            description = "Kill VMs and delete their overlays (the agents' shared cache stays).")
    public static final class Destroy implements Callable<Integer> {
        @CommandLine.Mixin
        Selection selection;

        @CommandLine.Mixin
        Where where;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--host", paramLabel = "ID", split = ",",
                description = "VMs a managed boot (boot --manager) ordered on these hosts: the manager orders them "
                        + "destroyed and each host's agent removes them at its next sync (with --manager, --token-file)")
        List<String> hosts;

        @CommandLine.Mixin
        ManagerClientOptions managerOptions;

        @Override
        public Integer call() throws Exception {
            if (hosts != null && !hosts.isEmpty()) {
                return ClientCommands.run(spec, () -> {
                    destroyOrdered(managerOptions.client());
                    return 0;
                });
            }
            VmInventory inventory = where.inventory();
            for (VmInventory.Entry vm : selection.resolve(spec.commandLine(), inventory)) {
                inventory.destroy(vm);
                spec.commandLine().getOut().println("destroyed " + vm.name());
            }
            return 0;
        }

        private void destroyOrdered(final ManagerClient client) {
            CommandLine cl = spec.commandLine();
            if (selection.all == (selection.names != null && !selection.names.isEmpty())) {
                throw new CommandLine.ParameterException(cl, "name one or more VMs, or give --all");
            }
            for (String host : hosts) {
                HostVmsView view = client.hostVms(host);
                java.util.Set<String> known = new java.util.TreeSet<>();
                view.orders().forEach(o -> known.add(o.name()));
                view.reports().forEach(r -> known.add(r.name()));
                List<String> names = selection.all ? List.copyOf(known) : selection.names;
                for (String name : names) {
                    if (!known.contains(name)) {
                        throw new CommandLine.ParameterException(cl, "no VM named " + name + " on host " + host
                                + " (ordered or reported there: " + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
                    }
                }
                for (String name : names) {
                    client.destroyVm(host, name);
                    cl.getOut().println("destroyed " + host + ":" + name + " (its agent removes it at its next sync)");
                }
            }
        }
    }
}
