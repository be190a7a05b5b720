package dev.virtman.cli;

import dev.virtman.block.manifest.ByteSize;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.VolumeConnection;
import dev.virtman.manager.api.VolumeConnector;
import dev.virtman.manager.api.VolumeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code virtman volume create|list|show|connect|rm}: writable copy-on-write volumes over images,
 * each exported by the agent of the host it lives on (what the Cinder driver drives).
 */
@Command(name = "volume", mixinStandardHelpOptions = true,
        description = "Create, list, connect and delete copy-on-write volumes over images.",
        subcommands = {VolumeCommand.Create.class, VolumeCommand.ListVolumes.class, VolumeCommand.Show.class,
                VolumeCommand.Connect.class, VolumeCommand.Remove.class})
public final class VolumeCommand implements Runnable {
    private static final String ROW = "%-38s  %-16s  %-16s  %-12s  %12s  %s%n";

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a volume over an image; it takes no time and no space until written.")
    static final class Create extends ManagerClientCommand {
        @Parameters(index = "0", paramLabel = "IMAGE", description = "Image id, id prefix or name.")
        String image;
        @Option(names = "--id", paramLabel = "ID", description = "Volume id (lower-case letters, digits, '-', '.'); generated if absent.")
        String id;
        @Option(names = "--name", paramLabel = "NAME", description = "Display name.")
        String name;
        @Option(names = "--host", paramLabel = "HOST", description = "Place on this host now (else the first connection places it).")
        String host;
        @Option(names = "--size", paramLabel = "SIZE",
                description = "Volume size, e.g. 20G; at least the image's size (default: the image's size).")
        String size;

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            long bytes = size == null ? 0 : ByteSize.parse(size);
            VolumeView v = client.createVolume(new CreateVolumeRequest(id, name, image, host, bytes));
            out.printf("created volume %s over image %s: %d bytes, %s%n", v.id(),
                    v.imageId(), v.sizeBytes(), v.status());
        }
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List volumes.")
    static final class ListVolumes extends ManagerClientCommand {

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            out.printf(ROW, "VOLUME", "IMAGE", "HOST", "STATUS", "BYTES", "NAME");
            for (VolumeView v : client.volumes()) {
                out.printf(ROW, v.id(), shortId(v.imageId()), dash(v.hostId()), v.status(), v.sizeBytes(),
                        dash(v.name()));
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one volume.")
    static final class Show extends ManagerClientCommand {
        @Parameters(index = "0", paramLabel = "VOLUME")
        String id;

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            VolumeView v = client.volume(id);
            out.printf("id       %s%nname     %s%nimage    %s%nhost     %s%nstatus   %s%nsize     %d%niqn      %s%ncreated  %s%n",
                    v.id(), dash(v.name()), v.imageId() == null ? "(blank)" : v.imageId(), dash(v.hostId()), v.status(), v.sizeBytes(), v.iqn(),
                    v.createdAt());
        }
    }

    @Command(name = "connect", mixinStandardHelpOptions = true,
            description = "Print the iSCSI properties (portal, IQN, LUN, CHAP) for attaching from HOST; "
                    + "places a volume that has no host yet on HOST.")
    static final class Connect extends ManagerClientCommand {
        @Parameters(index = "0", paramLabel = "VOLUME")
        String id;
        @Parameters(index = "1", paramLabel = "HOST", description = "The attaching host's id.")
        String host;
        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "60",
                description = "How long to wait for the host's agent to export the LUN (it learns of it from its "
                        + "next heartbeat); the URL is printed only once it is exported. Default: ${DEFAULT-VALUE}.")
        int waitSeconds;

        private static final long POLL_MILLIS = 500;

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(Math.max(0, waitSeconds));
            VolumeConnection c = client.connectVolume(id, new VolumeConnector(host, null, null));
            while (!c.exported() && System.nanoTime() < deadline) {
                Thread.sleep(POLL_MILLIS);
                c = client.connectVolume(id, new VolumeConnector(host, null, null));
            }
            if (!c.exported()) {
                throw new ManagerClientException(ManagerClientException.NO_REPLY, "volume " + id + " is placed on "
                        + host + " but its agent did not export it within " + waitSeconds + " s (is 'virtman agent "
                        + "--manager ... --host-id " + host + "' running and heartbeating?); no URL until it does", null);
            }
            out.printf("portal   %s%niqn      %s%nlun      %d%nchap     %s / %s%nexported yes%n", c.portal(), c.iqn(),
                    c.lun(), c.authUsername(), c.authPassword());
            out.printf("url      iscsi://%s%%%s@%s/%s/%d%n", c.authUsername(), c.authPassword(), c.portal(), c.iqn(),
                    c.lun());
        }
    }

    @Command(name = "rm", aliases = "delete", mixinStandardHelpOptions = true,
            description = "Delete a volume; its agent removes the files on its next heartbeat.")
    static final class Remove extends ManagerClientCommand {
        @Parameters(index = "0", paramLabel = "VOLUME")
        String id;

        @Override
        void run(final ManagerClient client, final PrintWriter out) throws Exception {
            client.deleteVolume(id);
            out.printf("deleted volume %s%n", id);
        }
    }

    private static String shortId(final String id) {
        if (id == null) {
            return "(blank)";
        }
        return id.length() > ImageCommand.SHORT_ID ? id.substring(0, ImageCommand.SHORT_ID) : id;
    }

    private static String dash(final String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}
