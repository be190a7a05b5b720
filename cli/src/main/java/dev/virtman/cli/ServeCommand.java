package dev.virtman.cli;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.scsi.DiskIdentity;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code virtman serve IMAGE...}: exports raw images as the LUNs of one iSCSI target until
 * SIGINT/SIGTERM. Read-only unless {@code --read-write}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Export raw images over iSCSI (one target, one LUN per image) until interrupted.")
public final class ServeCommand implements Callable<Integer> {

    /** Prefix of the default target name; the image's base name completes it. */
    static final String DEFAULT_IQN_PREFIX = "iqn.2026-11.dev.virtman:";

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "raw image files; the first is LUN 0")
    List<Path> images;

    @Option(names = "--portal", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:3260",
            description = "address to listen on (default: ${DEFAULT-VALUE}; port 0 picks a free port)")
    String portal;

    @Option(names = "--advertise", paramLabel = "HOST:PORT",
            description = "address discovery (SendTargets) tells initiators to log in to, when they reach "
                    + "this target through NAT or a port forward (default: the address they connected to)")
    String advertise;

    @Option(names = "--iqn", paramLabel = "IQN",
            description = "target name (default: " + DEFAULT_IQN_PREFIX + "<first image's base name>)")
    String iqn;

    @Option(names = "--read-write", description = "let initiators write to the images")
    boolean readWrite;

    @Option(names = "--chap-user", paramLabel = "NAME", description = "require CHAP with this user name")
    String chapUser;

    @Option(names = "--chap-secret", paramLabel = "SECRET",
            description = "CHAP secret for --chap-user (visible in ps; prefer --chap-secret-file)")
    String chapSecret;

    @Option(names = "--chap-secret-file", paramLabel = "FILE", description = "read the CHAP secret from FILE's first line")
    Path chapSecretFile;

    @Option(names = "--mutual-chap-user", paramLabel = "NAME", description = "name the target answers mutual CHAP with")
    String mutualChapUser;

    @Option(names = "--mutual-chap-secret", paramLabel = "SECRET", description = "secret for mutual CHAP")
    String mutualChapSecret;

    @Option(names = "--mutual-chap-secret-file", paramLabel = "FILE", description = "read the mutual CHAP secret from FILE")
    Path mutualChapSecretFile;

    @Option(names = "--allow-initiator", paramLabel = "IQN",
            description = "initiator name allowed to log in (repeatable; default: any)")
    List<String> allowedInitiators = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress address = parsePortal("--portal", portal);
        ChapConfig chap = chap();
        String name = iqn != null ? iqn : defaultIqn(images.get(0));
        List<BlockDevice> devices = new ArrayList<>();
        List<ScsiDisk> disks = new ArrayList<>();
        try {
            for (int lun = 0; lun < images.size(); lun++) {
                Path image = images.get(lun);
                if (!Files.isRegularFile(image)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), image + ": not a regular file");
                }
                FileBlockDevice device = FileBlockDevice.open(image, readWrite);
                devices.add(device);
                disks.add(new ScsiDisk(device, DiskIdentity.fromName(name + "/" + lun)));
            }
            ExportedTarget target = new ExportedTarget(name, new LunTable(disks), chap,
                    new LinkedHashSet<>(allowedInitiators));
            TargetServerConfig config = new TargetServerConfig(address, List.of(target));
            if (advertise != null) {
                InetSocketAddress advertised = parsePortal("--advertise", advertise);
                if (advertised.getPort() == 0 || advertised.isUnresolved() || advertised.getAddress().isAnyLocalAddress()) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--advertise " + advertise + ": needs a concrete address and port");
                }
                config = config.withAdvertisedPortal(advertised);
            }
            IscsiTargetServer server = IscsiTargetServer.start(config);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                closeAll(devices);
                stopped.countDown();
            }, "virtman-serve-shutdown"));
            PrintWriter out = spec.commandLine().getOut();
            out.println(describe(server.localAddress(), name));
            out.flush();
            stopped.await();
            return 0;
        } catch (IOException | RuntimeException e) {
            closeAll(devices);
            throw e;
        }
    }

    private String describe(final InetSocketAddress bound, final String name) {
        String host = bound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : bound.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        StringBuilder line = new StringBuilder("virtman: serving ").append(images.size())
                .append(images.size() == 1 ? " image " : " images ").append(readWrite ? "read-write" : "read-only")
                .append(" as ").append(name).append(" on ").append(bound.getAddress().getHostAddress())
                .append(':').append(bound.getPort()).append(":");
        for (int lun = 0; lun < images.size(); lun++) {
            line.append(' ').append("iscsi://").append(host).append(':').append(bound.getPort()).append('/')
                    .append(name).append('/').append(lun);
        }
        return line.toString();
    }

    private ChapConfig chap() throws IOException {
        if (chapSecretFile != null) {
            chapSecret = firstLine(chapSecretFile);
        }
        if (mutualChapSecretFile != null) {
            mutualChapSecret = firstLine(mutualChapSecretFile);
        }
        if (chapUser == null && chapSecret == null) {
            if (mutualChapUser != null || mutualChapSecret != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "mutual CHAP needs --chap-user/--chap-secret");
            }
            return null;
        }
        if (chapUser == null || chapSecret == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--chap-user and --chap-secret go together");
        }
        try {
            return new ChapConfig(chapUser, chapSecret, mutualChapUser, mutualChapSecret);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static String firstLine(final Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        return lines.isEmpty() ? "" : lines.get(0).strip();
    }

    private InetSocketAddress parsePortal(final String option, final String value) {
        int colon = value.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new IllegalArgumentException("expected HOST:PORT");
            }
            String host = value.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 0xffff) {
                throw new IllegalArgumentException("port out of range");
            }
            return new InetSocketAddress(host, port);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " " + value + ": " + e.getMessage());
        }
    }

    /** {@code iqn.2026-11.dev.virtman:<base name>}, the base name reduced to the characters an IQN allows (RFC 3722). */
    static String defaultIqn(final Path image) {
        String base = image.getFileName().toString();
        int dot = base.lastIndexOf('.');
        if (dot > 0) {
            base = base.substring(0, dot);
        }
        String cleaned = base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        return DEFAULT_IQN_PREFIX + (cleaned.isEmpty() ? "disk" : cleaned);
    }

    private static void closeAll(final List<BlockDevice> devices) {
        for (BlockDevice d : devices) {
            try {
                d.close();
            } catch (IOException e) {
                // shutting down: nothing more to do
            }
        }
    }
}
