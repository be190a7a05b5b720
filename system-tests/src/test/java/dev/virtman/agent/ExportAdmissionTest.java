package dev.virtman.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.iscsi.initiator.DiscoveredTarget;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiInitiator;
import dev.virtman.iscsi.initiator.IscsiLoginException;
import dev.virtman.iscsi.initiator.IscsiUrl;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.Await;
import dev.virtman.testing.FreePorts;
import dev.virtman.testing.RandomFiles;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A managed agent's image export admits only the initiators the manager knows to need it
 * ({@link ExportAdmission}): host-b, placed under host-a (source fan-out 1), logs in to host-a's
 * export and discovers it; an initiator the manager never named (a stranger on the storage
 * network) gets the login reject "initiator not authorized" (class 2, detail 2), is counted in
 * {@code virtman_iscsi_target_logins_refused_total}, and discovery lists nothing to it. On the
 * code before this, the stranger logged in and read the image. When host-b leaves the tree, its
 * name is no longer admitted either.
 */
@Tag("system")
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ExportAdmissionTest {
    private static final int CHUNK = 64 << 10;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String STRANGER = "iqn.2026-11.dev.virtman:agent.stranger";

    @TempDir
    Path dir;

    @Test
    void onlyChildrenTheManagerNamesLogInToAnAgentsExport() throws Exception {
        Path image = RandomFiles.write(dir.resolve("disk.raw"), 16 * CHUNK, 5);
        ManagerConfig config = ManagerConfig.defaults(new StateDir(dir.resolve("manager")))
                .withImageDirs(List.of(dir))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withLimits(new TreeLimits(2, 1, 8))
                .withSource("127.0.0.1:" + FreePorts.loopbackPort(), Locality.UNKNOWN)
                .withHeartbeat(Duration.ofMillis(300), Duration.ofSeconds(3))
                .withChunkSize(CHUNK);
        try (ManagerServer manager = ManagerServer.start(config)) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            String id = client.registerImage("disk", image.toString()).id();
            try (ManagedAgent a = ManagedAgent.start(config(manager, "host-a", "127.0.0.2"))) {
                String aExport = a.agent().exportUrl(id);
                InetSocketAddress aPortal = a.agent().portal();
                try (ManagedAgent b = ManagedAgent.start(config(manager, "host-b", "127.0.0.3"))) {
                    assertThat(b.agent().image(id).parents().getFirst()).contains(TargetNames.agentIqn("host-a", id));
                    InitiatorOptions asB = InitiatorOptions.defaults()
                            .withInitiatorName(TargetNames.hostInitiator("host-b"));
                    Await.until("host-a's export to list itself to host-b", WAIT,
                            () -> discover(asB, aPortal), found -> found.contains(TargetNames.agentIqn("host-a", id)));
                    try (IscsiBlockDevice asChild = IscsiBlockDevice.open(IscsiUrl.parse(aExport), asB)) {
                        assertThat(asChild.size()).isEqualTo(16L * CHUNK); // logged in (no read: no source runs)
                    }

                    InitiatorOptions stranger = InitiatorOptions.defaults().withInitiatorName(STRANGER);
                    assertThatThrownBy(() -> IscsiBlockDevice.open(IscsiUrl.parse(aExport), stranger).close())
                            .isInstanceOfSatisfying(IscsiLoginException.class, e -> {
                                assertThat(e.statusClass()).isEqualTo(IscsiLoginException.CLASS_INITIATOR_ERROR);
                                assertThat(e.statusDetail()).isEqualTo(2);
                            });
                    assertThat(discover(stranger, aPortal)).isEmpty();
                    assertThat(a.agent().registry().find("virtman.iscsi.target.logins.refused")
                            .tag("reason", "not-authorized").counter().count()).isGreaterThanOrEqualTo(1);
                }
                // host-b left: the manager drops it from the tree and host-a from then on refuses it
                client.removeHost("host-b");
                InitiatorOptions formerChild = InitiatorOptions.defaults()
                        .withInitiatorName(TargetNames.hostInitiator("host-b"));
                Await.until("host-a's export to stop listing itself to host-b", WAIT,
                        () -> discover(formerChild, aPortal), List::isEmpty);
            }
        }
    }

    private static List<String> discover(final InitiatorOptions as, final InetSocketAddress portal) {
        try {
            return new IscsiInitiator(as).discover(portal.getHostString(), portal.getPort()).stream()
                    .map(DiscoveredTarget::name).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private ManagedAgentConfig config(final ManagerServer manager, final String host, final String address) {
        return new ManagedAgentConfig(manager.url(), manager.token(), host, List.of("disk"),
                new InetSocketAddress(address, FreePorts.loopbackPort()), null, dir.resolve("cache-" + host),
                0, 0, null, WAIT, Duration.ofSeconds(1)).withAdmitKnownOnly(true);
    }
}
