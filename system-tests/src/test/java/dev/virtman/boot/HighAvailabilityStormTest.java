package dev.virtman.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.bench.storm.EmulatedVm;
import dev.virtman.bench.storm.ReferenceImage;
import dev.virtman.bench.storm.StormImage;
import dev.virtman.block.BlockDevice;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.api.CreateVolumeRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.api.TreeView;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VolumeView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.testing.Await;
import dev.virtman.testing.BackgroundReads;
import dev.virtman.testing.EtcdCluster;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.ManagerMetricsScrape;
import dev.virtman.testing.Members;
import dev.virtman.testing.VirtmanManagerProcess;
import dev.virtman.testing.VirtmanServeProcess;
import dev.virtman.trace.BootTrace;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's must-show with real parts: 3 etcd members (Debian's etcd-server on 127.0.0.20-22),
 * 3 {@code virtman manager --etcd} processes, a {@code virtman serve} source, 3 {@code virtman
 * agent} processes given all three manager URLs, and a boot storm of emulated VMs (each its own
 * iSCSI session to its host's agent, replaying a trace with every byte verified) running while
 * the leader manager is killed with SIGKILL.
 *
 * <ul>
 *   <li>the leader dies mid-storm: a new leader within 10 s; the storm completes with every byte
 *       right; reads at the surviving managers never fail; no host is failed; image, hosts, tree,
 *       volume and VM orders are the same at the new leader;</li>
 *   <li>one etcd member dies: writes still work;</li>
 *   <li>two die: managers answer reads, writes get 503, and a second round of VMs boots from the
 *       agents' caches;</li>
 *   <li>both return: writes resume, nothing lost.</li>
 * </ul>
 *
 * {@link dev.virtman.cli.HighAvailabilityTest} (cli) covers the same failures with simulated hosts
 * only; this one is the version with agents and VMs.
 */
@Tag("interop")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class HighAvailabilityStormTest {
    private static final int AGENTS = 3;
    private static final int VMS_PER_AGENT = 4;
    private static final int CHUNK = 64 << 10;
    private static final int IMAGE_CHUNKS = 256;
    private static final int READS = 160;
    /** Trace spacing: the storm lasts READS × this, long enough to span the fail-over. */
    private static final double READ_SPACING_SECONDS = 0.05;
    private static final Duration KILL_AFTER = Duration.ofSeconds(2);
    private static final Duration FAILOVER_BOUND = Duration.ofSeconds(10);
    private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(3);

    /** Kept when the test fails: the managers' and etcd members' logs say what happened. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    private record Seen(String id, String address, String state, List<String> images) {
        static Seen of(final HostView h) {
            return new Seen(h.hostId(), h.address(), h.state(), h.images());
        }
    }

    /** Chunk-aligned reads spread over the whole image, as a boot reads its disk. */
    private static BootTrace syntheticTrace() {
        SplittableRandom random = new SplittableRandom(13);
        List<BootTrace.Read> reads = new ArrayList<>();
        for (int i = 0; i < READS; i++) {
            long chunk = random.nextInt(IMAGE_CHUNKS);
            long length = (long) (1 + random.nextInt(3)) * CHUNK;
            reads.add(new BootTrace.Read(i * READ_SPACING_SECONDS, chunk * CHUNK,
                    Math.min(length, (IMAGE_CHUNKS - chunk) * CHUNK)));
        }
        return new BootTrace(reads);
    }

    @Test
    void aStormRidesOutTheLeaderKillAndAgentsServeWithoutQuorum() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        BootTrace trace = syntheticTrace();
        Path imageFile = StormImage.create(images.resolve("storm.raw"), trace, (long) IMAGE_CHUNKS * CHUNK).path();
        ReferenceImage reference = ReferenceImage.map(imageFile);
        String admin = secret();
        String enrol = secret();
        InetSocketAddress sourcePortal = LoopbackPorts.freePortOn("127.0.0.1");
        List<VirtmanManagerProcess> managers = new ArrayList<>();
        List<VirtmanAgentProcess> agents = new ArrayList<>();
        VirtmanServeProcess source = null;
        BackgroundReads reads = null;
        try (EtcdCluster etcd = EtcdCluster.start(3, tmp.resolve("etcd"))) {
            for (int i = 0; i < 3; i++) {
                Path state = Files.createDirectories(tmp.resolve("state-" + i));
                FileModes.writePrivate(state.resolve("token"), admin + "\n");
                FileModes.writePrivate(state.resolve("enrol-token"), enrol + "\n");
                managers.add(VirtmanManagerProcess.start(tmp.resolve("manager-" + i + ".log"), List.of(
                        "--listen", "127.0.0.1:0", "--state-dir", state.toString(), "--image-dir", images.toString(),
                        "--etcd", etcd.endpoints(), "--source-portal", "127.0.0.1:" + sourcePortal.getPort(),
                        "--heartbeat-interval", "500ms", "--heartbeat-timeout", HEARTBEAT_TIMEOUT.toMillis() + "ms")));
            }
            List<URI> urls = managers.stream().map(VirtmanManagerProcess::url).toList();
            StringJoiner all = new StringJoiner(",");
            urls.forEach(u -> all.add(u.toString()));
            ClusterView cluster = Await.until("a leader elected", Duration.ofSeconds(30), () -> client(urls.get(0), admin)
                    .cluster(), c -> c.leader() != null && c.managers().size() == 3);
            int leaderIndex = urls.indexOf(URI.create(cluster.leader()));
            assertThat(leaderIndex).as("leader %s among %s", cluster.leader(), urls).isNotNegative();
            ManagerClient leader = client(urls.get(leaderIndex), admin);
            ImageView image = leader.registerImage("storm", imageFile.toString());
            source = VirtmanServeProcess.start(imageFile, TargetNames.sourceIqn(image.id()), false,
                    "127.0.0.1:" + sourcePortal.getPort(), List.of());

            // real agents, each told every manager (it fails over between them); their exports
            // admit any initiator, since the emulated VMs are not VMs of the agents' --vm-dir
            List<String> exports = new ArrayList<>();
            for (int a = 0; a < AGENTS; a++) {
                String host = "ha" + a;
                InetSocketAddress portal = LoopbackPorts.freePortOn("127.0.0." + (41 + a));
                agents.add(VirtmanAgentProcess.launch(all.toString(), enrol, host, portal, "storm",
                        tmp.resolve("agent-" + a), List.of("--admit-any-initiator")));
                exports.add("iscsi://" + portal.getAddress().getHostAddress() + ":" + portal.getPort() + "/"
                        + TargetNames.agentIqn(host, image.id()) + "/0");
            }
            agents.forEach(VirtmanAgentProcess::awaitReady);
            TreeView tree = Await.until("every agent in the tree", Duration.ofSeconds(60), () -> leader.tree("storm"),
                    t -> t.nodes().size() == AGENTS);
            VolumeView volume = leader.createVolume(new CreateVolumeRequest("vol-1", "data", "storm", null, 0));
            for (int a = 0; a < AGENTS; a++) {
                // "stopped" for a VM the agent does not run: an order it keeps syncing, no QEMU needed
                leader.orderVm("ha" + a, new VmOrder("keep-" + a, image.id(), null, null, null, 64, "up", 60,
                        VmOrder.STOPPED));
            }
            List<Seen> hostsBefore = leader.hosts().stream().map(Seen::of).toList();
            assertThat(hostsBefore).hasSize(AGENTS).allMatch(s -> s.state().equals("alive"));

            // readers at the two followers, counting every failed read
            List<Runnable> readers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                if (i != leaderIndex) {
                    ManagerClient reader = client(urls.get(i), admin);
                    readers.add(() -> {
                        reader.images();
                        reader.hosts();
                        reader.tree("storm");
                        reader.volumes();
                        reader.hostVms("ha0");
                    });
                }
            }
            reads = BackgroundReads.start(readers, Duration.ofMillis(100));

            // 1. the storm, and the leader killed during it
            long stormStart = System.nanoTime() + Duration.ofMillis(500).toNanos();
            List<EmulatedVm.Result> storm;
            Duration failover;
            ClusterView after;
            long leaderSeenAt;
            try (ExecutorService vms = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<EmulatedVm.Result>> running = startVms(vms, exports, trace, reference, stormStart, "s");
                sleep(Duration.ofNanos(stormStart - System.nanoTime()).plus(KILL_AFTER));
                long killed = System.nanoTime();
                managers.get(leaderIndex).kill();
                ManagerClient survivor = client(urls.get((leaderIndex + 1) % 3), admin);
                after = Await.until("a new leader", FAILOVER_BOUND, survivor::cluster,
                        c -> c.leader() != null && !c.leader().equals(cluster.leader()));
                failover = Duration.ofNanos(System.nanoTime() - killed);
                leaderSeenAt = System.currentTimeMillis();
                storm = results(running);
            }
            long stormMillis = (System.nanoTime() - stormStart) / 1_000_000;
            assertThat(storm).hasSize(AGENTS * VMS_PER_AGENT).allSatisfy(r -> {
                assertThat(r.error()).as(r.vm()).isNull();
                assertThat(r.mismatchedBytes()).as(r.vm()).isZero();
                assertThat(r.bytesRead()).as(r.vm()).isEqualTo(trace.totalBytes());
            });
            ManagerClient newLeader = client(URI.create(after.leader()), admin);
            // every agent heartbeats the new leader; then a full heartbeat timeout after its grace
            // began: a falsely failed host would show now
            Await.until("every agent back in the new leader's tree", Duration.ofSeconds(20),
                    () -> newLeader.tree("storm"), t -> t.nodes().size() == AGENTS && t.unplaced().isEmpty());
            // The new leader's grace began before we saw it lead; once its detector has judged a
            // full timeout after that, a falsely failed host would show.
            URI leaderUrl = URI.create(after.leader());
            long graceOver = leaderSeenAt + HEARTBEAT_TIMEOUT.toMillis();
            Await.until("the new leader's failure detector judging past the grace", Duration.ofSeconds(15),
                    () -> ManagerMetricsScrape.value(leaderUrl, admin, "virtman_detector_judged_timestamp_seconds"),
                    seconds -> seconds * 1000 > graceOver);
            assertThat(newLeader.hosts().stream().map(Seen::of).toList()).as("no host failed by the fail-over")
                    .containsExactlyElementsOf(hostsBefore);
            assertThat(newLeader.tree("storm").nodes()).extracting(TreeView.Node::hostId)
                    .containsExactlyInAnyOrderElementsOf(tree.nodes().stream().map(TreeView.Node::hostId).toList());
            assertThat(newLeader.images()).extracting(ImageView::id).containsExactly(image.id());
            assertThat(newLeader.volumes()).extracting(VolumeView::id).containsExactly(volume.id());
            for (int a = 0; a < AGENTS; a++) {
                assertThat(newLeader.hostVms("ha" + a).orders()).as("the new leader hands out the old one's orders")
                        .extracting(VmOrder::name).containsExactly("keep-" + a);
            }
            assertThat(reads.errors()).as("reads at the surviving managers during the fail-over").isEmpty();
            System.out.printf("storm of %d VMs on %d agents: %d ms; leader killed %d ms in, new leader after %d ms;"
                    + " %d follower reads, 0 errors%n", storm.size(), AGENTS, stormMillis, KILL_AFTER.toMillis(),
                    failover.toMillis(), reads.rounds());

            // 2. one etcd member down: writes work
            etcd.kill(0);
            newLeader.registerHost("late-1", "127.0.2.1:3260", null);
            assertThat(newLeader.host("late-1").hostId()).isEqualTo("late-1");

            // 3. two down: reads answer, writes 503, VMs boot from the agents' caches
            etcd.kill(1);
            List<ManagerClient> live = urls.stream().filter(u -> !u.equals(urls.get(leaderIndex)))
                    .map(u -> client(u, admin)).toList();
            for (ManagerClient c : live) {
                assertThat(c.images()).hasSize(1);
                assertThat(c.tree("storm").nodes()).hasSize(AGENTS);
                assertThat(c.hostVms("ha1").orders()).hasSize(1);
                assertThat(c.volumes()).extracting(VolumeView::id).containsExactly(volume.id());
            }
            assertThatThrownBy(() -> newLeader.registerHost("late-2", "127.0.2.2:3260", null))
                    .isInstanceOfSatisfying(ManagerClientException.class, e -> assertThat(e.status()).isEqualTo(503));
            List<EmulatedVm.Result> cached;
            try (ExecutorService vms = Executors.newVirtualThreadPerTaskExecutor()) {
                cached = results(startVms(vms, exports, trace, reference, System.nanoTime(), "q"));
            }
            assertThat(cached).as("VMs booted while etcd has no quorum").allSatisfy(r -> {
                assertThat(r.error()).as(r.vm()).isNull();
                assertThat(r.mismatchedBytes()).as(r.vm()).isZero();
            });

            // 4. both back: writes resume at whoever leads, nothing lost
            etcd.restart(0);
            etcd.restart(1);
            ManagerClient writer = Members.firstToTake("writes to resume", Duration.ofSeconds(90), live,
                    c -> c.registerHost("late-2", "127.0.2.2:3260", null));
            assertThat(writer.hosts()).extracting(HostView::hostId).contains("late-1", "late-2", "ha0", "ha1", "ha2");
            assertThat(writer.volumes()).extracting(VolumeView::id).containsExactly(volume.id());
            assertThat(writer.hostVms("ha2").orders()).extracting(VmOrder::name).containsExactly("keep-2");
            assertThat(reads.errors()).isEmpty();
        } catch (AssertionError | RuntimeException e) {
            System.out.println("HighAvailabilityStormTest failed; logs kept in " + tmp);
            throw e;
        } finally {
            if (reads != null) {
                reads.close();
            }
            agents.forEach(VirtmanAgentProcess::kill);
            if (source != null) {
                source.close();
            }
            managers.forEach(VirtmanManagerProcess::kill);
        }
    }

    /** {@link #VMS_PER_AGENT} emulated VMs per agent export, all starting at {@code startNanos}. */
    private static List<Future<EmulatedVm.Result>> startVms(final ExecutorService threads, final List<String> exports,
                                                           final BootTrace trace, final ReferenceImage reference,
                                                           final long startNanos, final String prefix) {
        List<Future<EmulatedVm.Result>> futures = new ArrayList<>();
        for (int a = 0; a < exports.size(); a++) {
            IscsiUrl url = IscsiUrl.parse(exports.get(a));
            for (int v = 0; v < VMS_PER_AGENT; v++) {
                String vm = prefix + a + "-vm" + v;
                EmulatedVm emulated = new EmulatedVm(vm, trace, 1.0, reference);
                futures.add(threads.submit(() -> {
                    try (BlockDevice disk = IscsiBlockDevice.open(url, initiator(vm))) {
                        return emulated.replay(disk, startNanos);
                    } catch (Exception e) {
                        return new EmulatedVm.Result(vm, startNanos, System.nanoTime(), 0, 0, "open: " + e);
                    }
                }));
            }
        }
        return futures;
    }

    private static List<EmulatedVm.Result> results(final List<Future<EmulatedVm.Result>> futures) throws Exception {
        List<EmulatedVm.Result> out = new ArrayList<>();
        for (Future<EmulatedVm.Result> f : futures) {
            out.add(f.get(120, TimeUnit.SECONDS));
        }
        return out;
    }

    private static InitiatorOptions initiator(final String vm) {
        InitiatorOptions d = InitiatorOptions.defaults();
        return new InitiatorOptions(InitiatorOptions.DEFAULT_NAME_PREFIX + vm, null, d.connectTimeout(),
                d.loginTimeout(), d.commandTimeout(), d.recoveryTimeout(), d.keepAliveInterval(),
                d.keepAliveTimeout(), false, false, d.maxRecvDataSegmentLength(), d.maxReadBytes(), d.maxReissues());
    }

    private static String secret() {
        byte[] raw = new byte[32];
        new java.security.SecureRandom().nextBytes(raw);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    private static ManagerClient client(final URI url, final String token) {
        return new ManagerClient(url, token, Duration.ofSeconds(8));
    }

    private static void sleep(final Duration d) {
        if (d.isNegative()) {
            return;
        }
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
