package dev.virtman.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.Await;
import dev.virtman.cli.VirtmanCommand;
import dev.virtman.manager.ManagerConfig;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.http.ManagerServer;
import dev.virtman.manager.tree.Locality;
import dev.virtman.testing.RandomFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A managed boot that fails leaves nothing in the way (issue 18, item 4): the same boot run again
 * boots its VM afresh instead of "failing" at once on the earlier run's reports, the failed boot
 * stores no boot profile, and {@code virtman destroy --manager URL --host H NAME} removes the
 * failed VM from the host. The disk has no boot loader, so its guest never comes up.
 */
@Tag("interop")
class ManagedFailedBootTest {
    private static final int BOOT_TIMEOUT_SECONDS = 6;

    @TempDir
    Path work;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aFailedBootCanBeRerunAndDestroyedAndLeavesNoProfile() throws Exception {
        Path disk = RandomFiles.write(work.resolve("no-boot-loader.raw"), 8 << 20, 4);
        InetSocketAddress sourcePortal = LoopbackPorts.freePortOn("127.0.0.1");
        ManagerConfig config = ManagerConfig.defaults(new StateDir(work.resolve("manager")))
                .withListen(new InetSocketAddress("127.0.0.1", 0))
                .withSource("127.0.0.1:" + sourcePortal.getPort(), Locality.UNKNOWN)
                .withImageDirs(List.of(work));
        try (ManagerServer manager = ManagerServer.start(config)) {
            ManagerClient client = new ManagerClient(manager.url(), manager.token());
            ImageView image = client.registerImage("blank", disk.toString());
            try (SourceTarget source = SourceTarget.start(sourcePortal, image.id(), disk);
                 VirtmanAgentProcess h1 = VirtmanAgentProcess.launch(manager.url(), manager.enrolmentToken(), "h1",
                         LoopbackPorts.freePortOn("127.0.0.2"), "blank", work.resolve("h1"))) {
                h1.awaitReady();
                Run first = boot(manager);
                assertThat(first.exit).as(first.out + h1.log()).isEqualTo(1);
                assertThat(first.out).contains("VMs up: 0 of 1 (1 failed)");

                Run again = boot(manager);
                assertThat(again.exit).as(again.out + h1.log()).isEqualTo(1);
                assertThat(again.elapsed).as("the second boot waits for its own VM, not the first one's report\n"
                        + again.out).isGreaterThanOrEqualTo(Duration.ofSeconds(BOOT_TIMEOUT_SECONDS));

                StringWriter out = new StringWriter();
                int destroyed = new CommandLine(new VirtmanCommand()).setOut(new PrintWriter(out, true))
                        .execute("destroy", "--manager", manager.url().toString(), "--token-file",
                                manager.tokenFile().toString(), "--host", "h1", "vm-1");
                assertThat(destroyed).as(out.toString()).isZero();
                awaitNoReports(client, "h1");
                assertThat(Files.list(work.resolve("h1").resolve("vms")).toList()).isEmpty();
                awaitLog(h1, "boot profile held back until a VM of it comes up");
                assertThat(client.image(image.id()).hasBootProfile()).as("a failed boot's reads are no profile").isFalse();
            }
        }
    }

    private record Run(int exit, String out, Duration elapsed) { }

    private Run boot(final ManagerServer manager) {
        StringWriter out = new StringWriter();
        long start = System.nanoTime();
        int code = new CommandLine(new VirtmanCommand()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(out, true))
                .execute("boot", "--manager", manager.url().toString(), "--token-file", manager.tokenFile().toString(),
                        "--hosts", "h1", "--name", "blank", "--count", "1", "--timeout", String.valueOf(BOOT_TIMEOUT_SECONDS),
                        "--work-dir", work.toString());
        return new Run(code, out.toString(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** The agent decides on the profile once the boot's reads have been quiet for 15 s. */
    private static void awaitLog(final VirtmanAgentProcess agent, final String text) throws InterruptedException {
        Await.until(() -> agent.log().contains(text), Duration.ofSeconds(90), "agent logs: " + text);
    }

    /** The destroy order reaches the agent at its next VM sync; it then stops reporting the VM. */
    private static void awaitNoReports(final ManagerClient client, final String host) throws InterruptedException {
        Await.until(() -> client.hostVms(host).reports().isEmpty(), Duration.ofSeconds(60),
                "VM reports of " + host + " gone");
    }
}
