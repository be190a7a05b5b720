package dev.virtman.manager.backend;

import dev.virtman.manager.api.ClusterView;
import dev.virtman.manager.store.StoreException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * What {@code GET /v1/cluster} answers. With etcd: the managers whose leases are alive, the
 * leader, and each configured etcd endpoint's own {@code /health} (etcd answers
 * {@code {"health":"true"}} only while the cluster has a leader), asked in parallel with a
 * one-second timeout so the view comes back even with members down.
 */
public final class ClusterStatus implements Supplier<ClusterView> {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);

    private final URI self;
    private final EtcdLeadership leadership;
    private final HttpClient http;

    private ClusterStatus(final URI self, final EtcdLeadership leadership) {
        this.self = self;
        this.leadership = leadership;
        this.http = leadership == null ? null : HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).build();
    }

    /** A lone manager on SQLite: it is the cluster and its leader. */
    public static ClusterStatus alone(final URI self) {
        return new ClusterStatus(self, null);
    }

    public static ClusterStatus etcd(final EtcdLeadership leadership) {
        return new ClusterStatus(leadership.url(), leadership);
    }

    @Override
    public ClusterView get() {
        String me = self.toString();
        if (leadership == null) {
            return new ClusterView("sqlite", me, me, List.of(new ClusterView.Member(me, true)), List.of());
        }
        List<CompletableFuture<ClusterView.Endpoint>> probes = new ArrayList<>();
        for (URI endpoint : leadership.backend().endpoints()) {
            HttpRequest req = HttpRequest.newBuilder(endpoint.resolve("/health")).timeout(PROBE_TIMEOUT).GET().build();
            probes.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
                    .thenApply(r -> new ClusterView.Endpoint(endpoint.toString(),
                            r.statusCode() == 200 && r.body().replace(" ", "").contains("\"health\":\"true\""),
                            r.statusCode() == 200 ? null : "HTTP " + r.statusCode() + ": " + r.body().strip()))
                    .exceptionally(t -> new ClusterView.Endpoint(endpoint.toString(), false,
                            t.getCause() == null ? t.toString() : t.getCause().toString())));
        }
        String leader = leadership.leaderUrl();
        List<ClusterView.Member> managers = new ArrayList<>();
        try {
            for (EtcdLeadership.Member m : leadership.members()) {
                managers.add(new ClusterView.Member(m.url(), m.url().equals(leader)));
            }
        } catch (StoreException e) {
            managers.add(new ClusterView.Member(me, me.equals(leader))); // etcd unreachable: only ourselves
        }
        managers.sort(java.util.Comparator.comparing(ClusterView.Member::url));
        return new ClusterView("etcd", me, leader, managers, probes.stream().map(CompletableFuture::join).toList());
    }
}
