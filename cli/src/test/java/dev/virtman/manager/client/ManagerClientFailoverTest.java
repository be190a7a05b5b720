package dev.virtman.manager.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.virtman.manager.api.HeartbeatReply;
import dev.virtman.manager.api.HeartbeatRequest;
import dev.virtman.manager.api.HostView;
import dev.virtman.testing.FileModes;
import dev.virtman.testing.VirtmanManagerProcess;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --manager URL1,URL2}: a client and an agent stream fail over from a manager process
 * killed with SIGKILL to the next one. Two real {@code virtman manager} JVMs with separate state
 * directories stand in for the two members of one cluster (the second is given the first's admin
 * token); the agent re-registers on the second, as it must after any manager forgot it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ManagerClientFailoverTest {

    @TempDir
    Path tmp;

    @Test
    void clientAndStreamMoveToTheNextManagerWhenOneIsKilled() throws Exception {
        Path stateA = tmp.resolve("a");
        Path stateB = Files.createDirectory(tmp.resolve("b"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        try (VirtmanManagerProcess a = VirtmanManagerProcess.start(tmp.resolve("a.log"), List.of("--listen",
                "127.0.0.1:0", "--state-dir", stateA.toString(), "--heartbeat-interval", "500ms"))) {
            FileModes.writePrivate(stateB.resolve("token"), a.token());
            try (VirtmanManagerProcess b = VirtmanManagerProcess.start(tmp.resolve("b.log"), List.of("--listen",
                    "127.0.0.1:0", "--state-dir", stateB.toString(), "--heartbeat-interval", "500ms"))) {
                Path tokenFile = FileModes.writePrivate(tmp.resolve("token"), a.token());
                ManagerClient client = ManagerClient.locate(a.url() + "," + b.url(), tokenFile, null);
                assertThat(client.bases()).containsExactly(a.url(), b.url());

                client.registerHost("h1", "127.0.0.5:3260", null);
                assertThat(client.base()).isEqualTo(a.url());
                AtomicReference<CompletableFuture<HeartbeatReply>> nextReply =
                        new AtomicReference<>(new CompletableFuture<>());
                HeartbeatRequest report = new HeartbeatRequest(null, Map.of(), null, null);
                try (AgentSession session = new AgentSession(client, "h1", r -> nextReply.get().complete(r),
                        Duration.ofSeconds(3), Duration.ofSeconds(10), null)) {
                    session.tick(report);
                    assertThat(nextReply.get().get(30, TimeUnit.SECONDS).hostId()).isEqualTo("h1");

                    a.kill();
                    // The next request goes to B (A refuses connections now): no error, B's view.
                    List<HostView> onB = client.hosts();
                    assertThat(client.base()).isEqualTo(b.url());
                    assertThat(onB).isEmpty(); // B has its own state: it never heard of h1

                    // The stream: A's is gone; the next ticks reopen it on B, which does not know
                    // h1 (4404), so the agent registers again there, and B places it.
                    nextReply.set(new CompletableFuture<>());
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!nextReply.get().isDone()) {
                        assertThat(System.nanoTime()).as("stream re-established on B").isLessThan(deadline);
                        try {
                            session.tick(report);
                        } catch (ManagerClientException e) {
                            // A reset stream or B's 4404/404: what a real agent's next tick repairs.
                        }
                        if (session.unknownHost()) {
                            client.registerHost("h1", "127.0.0.5:3260", null);
                        }
                        nextReply.get().completeOnTimeout(null, 500, TimeUnit.MILLISECONDS).join();
                        if (nextReply.get().isDone() && nextReply.get().join() == null) {
                            nextReply.set(new CompletableFuture<>());
                        }
                    }
                    assertThat(nextReply.get().join().hostId()).isEqualTo("h1");
                    assertThat(client.hosts()).extracting(HostView::hostId).containsExactly("h1");
                }

                // Every manager down: one clear error naming how many were tried.
                b.kill();
                assertThatThrownBy(client::hosts).isInstanceOf(ManagerClientException.class)
                        .hasMessageContaining("no manager answered (2 tried");
            }
        }
    }

    @Test
    void urlListsAreCheckedUpFront() {
        assertThat(ManagerClient.parseUrls("http://127.0.0.1:1, https://10.0.0.2:7070"))
                .containsExactly(URI.create("http://127.0.0.1:1"), URI.create("https://10.0.0.2:7070"));
        assertThatThrownBy(() -> ManagerClient.parseUrls("http://127.0.0.1:1,,http://127.0.0.1:2"))
                .hasMessageContaining("invalid manager URL ''");
        assertThatThrownBy(() -> ManagerClient.parseUrls("ftp://127.0.0.1:1"))
                .hasMessageContaining("expected http://host:port or https://host:port");
    }
}
