package dev.virtman.boot;

import dev.virtman.testing.Await;
import dev.virtman.cli.VirtmanCommand;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.ProjectPaths;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code virtman boot --manager URL --hosts h1,h2} against agents that run as their own JVMs on
 * 127.0.0.2 and 127.0.0.3, as on two hosts: the boot starts nothing, it orders the VMs through the
 * manager, each agent launches real QEMU guests (TCG) over its own iSCSI export, and the boot
 * shows the same summary, with each VM's first read as its agent saw it. Destroying the VMs at the
 * end removes their directories on the hosts.
 */
@Tag("interop")
class ManagedHostsBootTest {

    @TempDir
    Path work;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void bootOrdersVmsOnRunningAgentsAndReportsThemUp() throws Exception {
        System.setProperty("virtman.home", ProjectPaths.root().toString());
        DemoImage.Guest demo = DemoImage.ensure(work.resolve("demo"), ProgressSink.NONE);
        InetSocketAddress sourcePortal = LoopbackPorts.freePortOn("127.0.0.1");
        ManagerConfig config = ManagerConfig.defaults(new StateDir(work.resolve("manager")))
                .withImageDirs(List.of(work))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePortal.getPort(), Locality.UNKNOWN);
        try (ManagerServer manager = ManagerServer.start(config)) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView image = client.registerImage("demo", demo.image().toString());
            try (SourceTarget source = SourceTarget.start(sourcePortal, image.id(), demo.image());
                 VirtmanAgentProcess h1 = VirtmanAgentProcess.launch(manager.url(), manager.enrolmentToken(), "h1",
                         LoopbackPorts.freePortOn("127.0.0.2"), "demo", work.resolve("h1"));
                 VirtmanAgentProcess h2 = VirtmanAgentProcess.launch(manager.url(), manager.enrolmentToken(), "h2",
                         LoopbackPorts.freePortOn("127.0.0.3"), "demo", work.resolve("h2"))) {
                h1.awaitReady();
                h2.awaitReady();
                StringWriter out = new StringWriter();
                Path report = work.resolve("boot.html");
                int code = new CommandLine(new VirtmanCommand()).setOut(new PrintWriter(out, true))
                        .execute("boot", "--manager", manager.url().toString(), "--token-file", manager.tokenFile().toString(),
                                "--hosts", "h1,h2", "--count", "2", "--timeout", "480",
                                "--work-dir", work.toString(), "--report", report.toString());
                String diag = out + "\n--- h1:\n" + h1.log() + "\n--- h2:\n" + h2.log();
                assertThat(code).as(diag).isZero();
                assertThat(out.toString()).as(diag).contains("VMs up: 2 of 2", "first disk read after QEMU start");
                assertThat(source.bytesServed()).as("one working set per host crossed the source, not the image")
                        .isGreaterThan(10L << 20).isLessThan(image.sizeBytes() / 10);
                assertThat(h1.log()).contains("iqn.2026-11.dev.virtman:vm.vm-1 logged in");
                assertThat(h2.log()).contains("iqn.2026-11.dev.virtman:vm.vm-2 logged in");
                assertThat(Files.readString(report)).contains("vm-1 (h1)", "vm-2 (h2)", "<title>first read");
                awaitEmpty(work.resolve("h1").resolve("vms"));
                awaitEmpty(work.resolve("h2").resolve("vms"));
            }
        }
    }

    /** The destroy orders reach the agents at their next sync; their VM directories then go. */
    private static void awaitEmpty(final Path vmDir) throws Exception {
        Await.until(() -> {
            try (Stream<Path> s = Files.list(vmDir)) {
                return s.findAny().isEmpty();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, Duration.ofSeconds(30), "VM directories in " + vmDir + " removed");
    }
}
