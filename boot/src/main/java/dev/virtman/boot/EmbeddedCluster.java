package dev.virtman.boot;

import dev.virtman.agent.ManagedAgent;
import dev.virtman.agent.ManagedAgentConfig;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.vm.VmPhase;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Everything {@code virtman boot} needs on one machine (the embedded default): a manager, the
 * source target for the image, and one managed agent per emulated host on its own loopback
 * address. Agents learn their parents from the manager exactly as on a real cluster, so the
 * same tree, failover and boot-profile code runs here.
 */
public final class EmbeddedCluster implements BootHosts, AutoCloseable {
    private final ManagerServer manager;
    private final SourceTarget source;
    private final List<ManagedAgent> agents;
    private final List<String> hostIds;
    private final ImageView image;

    private EmbeddedCluster(final ManagerServer manager, final SourceTarget source, final List<ManagedAgent> agents,
                            final List<String> hostIds, final ImageView image) {
        this.manager = manager;
        this.source = source;
        this.agents = agents;
        this.hostIds = hostIds;
        this.image = image;
    }

    /**
     * Starts the cluster. The manager keeps its state under {@code workDir/manager} and each
     * host its cache under {@code workDir/cache/HOST}, so a second run finds warm caches.
     */
    public static EmbeddedCluster start(final Path workDir, final Path imagePath, final String imageName,
                                        final int hosts, final int fanOut, final ProgressSink progress)
            throws IOException {
        InetSocketAddress sourcePortal = LoopbackPorts.freePortOn("127.0.0.1");
        StateDir state = new StateDir(workDir.resolve("manager")).create();
        ManagerConfig config = ManagerConfig.defaults(state)
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePortal.getPort(), Locality.UNKNOWN)
                .withLimits(TreeLimits.growing(fanOut, fanOut))
                // The embedded manager serves the one image this boot was given, wherever it is.
                .withImageDirs(List.of(imagePath.toAbsolutePath().getParent()));
        ManagerServer manager = ManagerServer.start(config);
        SourceTarget source = null;
        List<ManagedAgent> agents = new ArrayList<>();
        try {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            progress.note("registering " + imageName + " (" + imagePath + "): computing its chunk manifest...");
            ImageView image = registerOrReuse(client, imageName, imagePath);
            source = SourceTarget.start(sourcePortal, image.id(), imagePath);
            progress.note("source serves " + source.url());
            List<String> hostIds = new ArrayList<>();
            for (int i = 0; i < hosts; i++) {
                String hostId = "host-" + (i + 1);
                String address = LoopbackPorts.hostAddress(i);
                Path cache = workDir.resolve("cache").resolve(hostId);
                Files.createDirectories(cache);
                ManagedAgentConfig agentConfig = new ManagedAgentConfig(manager.url(), manager.enrolmentToken(), hostId,
                        List.of(image.id()), LoopbackPorts.freePortOn(address), null, cache, 0, 0,
                        null, null, null);
                agents.add(ManagedAgent.start(agentConfig));
                hostIds.add(hostId);
            }
            progress.note("started " + hosts + (hosts == 1 ? " agent" : " agents") + " on "
                    + LoopbackPorts.hostAddress(0) + (hosts > 1 ? ".." + LoopbackPorts.hostAddress(hosts - 1) : ""));
            return new EmbeddedCluster(manager, source, agents, hostIds, image);
        } catch (IOException | RuntimeException e) {
            agents.forEach(ManagedAgent::close);
            if (source != null) {
                source.close();
            }
            manager.close();
            throw e;
        }
    }

    /**
     * Empties every host's cache under {@code workDir} for a cold boot, keeping each host's
     * credential: the manager's state under {@code workDir/manager} survives and still lists the
     * host as enrolled, and the enrolment token cannot enrol a host twice (HTTP 409).
     */
    public static void emptyCaches(final Path workDir) throws IOException {
        Path caches = workDir.resolve("cache");
        if (!Files.isDirectory(caches)) {
            return;
        }
        try (Stream<Path> hosts = Files.list(caches)) {
            for (Path host : hosts.filter(Files::isDirectory).toList()) {
                Path keep = ManagedAgentConfig.credentialFile(host, host.getFileName().toString());
                try (Stream<Path> entries = Files.list(host)) {
                    for (Path entry : entries.filter(e -> !e.equals(keep)).toList()) {
                        ImagePreparer.deleteTree(entry);
                    }
                }
            }
        }
    }

    /** A second boot of the same image (same name and file) reuses its registration and manifest. */
    private static ImageView registerOrReuse(final ManagerClient client, final String name, final Path path) {
        String absolute = path.toAbsolutePath().toString();
        for (ImageView existing : client.images()) {
            if (existing.name().equals(name)) {
                if (existing.path().equals(absolute) && existing.sizeBytes() == sizeOf(path)) {
                    return existing;
                }
                client.removeImage(existing.id());
            }
        }
        return client.registerImage(name, absolute);
    }

    private static long sizeOf(final Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw new BootException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    public ImageView image() {
        return image;
    }

    public SourceTarget source() {
        return source;
    }

    @Override
    public long imageBytes() {
        return image.sizeBytes();
    }

    @Override
    public long sourceBytesServed() {
        return source.bytesServed();
    }

    /** The first read of each VM, as its host agent's export saw it (VMs log in under their own names). */
    @Override
    public void collectPhases(final List<VmBoot> vms) {
        for (VmBoot v : vms) {
            agents.get(v.host()).agent().images().get(0).firstReads().of(v.vm().spec().initiatorName())
                    .ifPresent(t -> v.vm().recordPhaseAt(VmPhase.FIRST_READ, t));
        }
    }

    @Override
    public int hostCount() {
        return agents.size();
    }

    @Override
    public String hostId(final int host) {
        return hostIds.get(host);
    }

    /** The iSCSI URL of host {@code host}'s re-export: what its VMs' overlays are backed by. */
    @Override
    public String exportUrl(final int host) {
        InetSocketAddress portal = agents.get(host).agent().portal();
        return "iscsi://" + portal.getAddress().getHostAddress() + ":" + portal.getPort() + "/"
                + TargetNames.agentIqn(hostIds.get(host), image.id()) + "/0";
    }

    /** Host {@code host}'s chunk cache of the image (what its VMs and children read through). */
    public dev.virtman.block.cache.ChunkCache cache(final int host) {
        return agents.get(host).agent().images().get(0).cache();
    }

    /** Bytes every agent fetched from its parents, summed. */
    @Override
    public long bytesFetchedByAgents() {
        long total = 0;
        for (ManagedAgent a : agents) {
            total += a.agent().status().images().stream()
                    .flatMap(i -> i.parents().stream()).mapToLong(p -> p.bytesFetched()).sum();
        }
        return total;
    }

    public URIView managerView() {
        return new URIView(manager.url().toString(), manager.token());
    }

    /** Where the embedded manager listens, for {@code virtman tree} and friends while a boot runs. */
    public record URIView(String url, String token) {
    }

    @Override
    public void close() {
        agents.forEach(ManagedAgent::close);
        source.close();
        manager.close();
    }
}
