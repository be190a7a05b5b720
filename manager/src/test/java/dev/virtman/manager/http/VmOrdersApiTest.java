package dev.virtman.manager.http;

import dev.virtman.manager.api.HostVmsView;
import dev.virtman.manager.api.ImageView;
import dev.virtman.manager.api.Labels;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.api.VmReport;
import dev.virtman.manager.api.VmSyncReply;
import dev.virtman.manager.api.VmSyncRequest;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.tree.TreeLimits;
import dev.virtman.testing.RandomFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** VM orders over real HTTP: what {@code virtman boot --manager} puts and what an agent's VM sync gets. */
class VmOrdersApiTest {

    @TempDir
    Path tmp;
    ManagerServer server;
    ManagerClient client;
    ImageView image;

    @BeforeEach
    void start() throws IOException {
        Path file = RandomFiles.write(tmp.resolve("disk.raw"), 10 * ManagerApiTest.CHUNK, 7);
        server = ManagerServer.start(ManagerApiTest.config(tmp.resolve("state"), new TreeLimits(2, 2, 8)));
        client = new ManagerClient(server.url(), server.token());
        image = client.registerImage("base", file.toString());
        client.registerHost("h1", "127.0.0.2:3260", Labels.NONE);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private VmOrder running(final String name) {
        return new VmOrder(name, "base", "/k/vmlinuz", "/k/initrd", "console=ttyS0", 256, "UP", 60, VmOrder.RUNNING);
    }

    @Test
    void orderIsSyncedToTheAgentReportedBackAndDroppedOnceDestroyed() {
        VmOrder stored = client.orderVm("h1", running("vm-1"));
        assertThat(stored.imageId()).as("the image name resolves to its id").isEqualTo(image.id());
        assertThat(client.hostVms("h1").reportedMillisAgo()).as("no sync yet").isEqualTo(-1);

        VmSyncReply first = client.vmSync("h1", new VmSyncRequest(List.of(), Map.of()));
        assertThat(first.orders()).containsExactly(stored);

        VmReport up = new VmReport("vm-1", image.id(), "UP", Map.of("PROCESS_STARTED", 1000L, "FIRST_READ", 1500L,
                "GUEST_UP", 4000L), 3.2, null);
        client.vmSync("h1", new VmSyncRequest(List.of(up),
                Map.of(image.id(), new VmSyncRequest.ImageFetch(5 << 20, 4 << 20))));
        HostVmsView view = client.hostVms("h1");
        assertThat(view.reports()).containsExactly(up);
        assertThat(view.images().get(image.id()).sourceBytes()).isEqualTo(4 << 20);
        assertThat(view.reportedMillisAgo()).isBetween(0L, 60_000L);

        client.destroyVm("h1", "vm-1");
        VmSyncReply whileRunning = client.vmSync("h1", new VmSyncRequest(List.of(up), Map.of()));
        assertThat(whileRunning.orders()).singleElement().extracting(VmOrder::desired).isEqualTo(VmOrder.DESTROYED);
        VmSyncReply gone = client.vmSync("h1", new VmSyncRequest(List.of(), Map.of()));
        assertThat(gone.orders()).as("the agent no longer reports it: the order is done").isEmpty();
    }

    @Test
    void aVmNoOrderMentionsIsReportedButNeverOrderedAway() {
        VmReport orphan = new VmReport("old-1", image.id(), "UP", Map.of(), null, null);
        VmSyncReply reply = client.vmSync("h1", new VmSyncRequest(List.of(orphan), Map.of()));
        assertThat(reply.orders()).isEmpty();
        assertThat(client.hostVms("h1").reports()).containsExactly(orphan);
    }

    @Test
    void badOrdersAreRefusedWithTheReason() throws Exception {
        assertThatThrownBy(() -> client.orderVm("nobody", running("vm-1")))
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("404");
        assertThatThrownBy(() -> client.orderVm("h1", running("Bad Name")))
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("422");
        assertThatThrownBy(() -> client.orderVm("h1", new VmOrder("vm-1", "no-such-image", null, null, null, 256,
                "UP", 60, VmOrder.RUNNING))).isInstanceOf(ManagerClientException.class).hasMessageContaining("404");
        assertThatThrownBy(() -> client.orderVm("h1", running("vm-1").withDesired("paused")))
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("desired");
        assertThatThrownBy(() -> client.orderVm("h1", new VmOrder("vm-1", "base", "/k", null, null, 256, "UP", 60,
                VmOrder.RUNNING))).isInstanceOf(ManagerClientException.class).hasMessageContaining("kernel and initrd");
        assertThatThrownBy(() -> client.destroyVm("h1", "never-ordered"))
                .isInstanceOf(ManagerClientException.class).hasMessageContaining("404");
        HttpResponse<String> noAuth = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(server.url() + "/v1/hosts/h1/vm-sync")).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(noAuth.statusCode()).isEqualTo(401);
        HttpResponse<String> unknownField = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.url() + "/v1/hosts/h1/vm-sync")).header("Authorization", "Bearer " + server.token())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"vms\":[],\"bogus\":1}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unknownField.statusCode()).isEqualTo(422);
        assertThat(client.hostVms("h1").orders()).as("nothing half-applied").isEmpty();
    }

    @Test
    void aNameKeepsItsImageUntilDestroyed() throws IOException {
        Path other = RandomFiles.write(tmp.resolve("other.raw"), 10 * ManagerApiTest.CHUNK, 8);
        client.registerImage("other", other.toString());
        client.orderVm("h1", running("vm-1"));
        assertThatThrownBy(() -> client.orderVm("h1", new VmOrder("vm-1", "other", null, null, null, 256, "UP", 60,
                VmOrder.RUNNING))).isInstanceOf(ManagerClientException.class).hasMessageContaining("409");
        client.destroyVm("h1", "vm-1");
        assertThat(client.orderVm("h1", new VmOrder("vm-1", "other", null, null, null, 256, "UP", 60,
                VmOrder.RUNNING)).desired()).isEqualTo(VmOrder.RUNNING);
    }
}
