package dev.virtman.manager.backend;

import dev.virtman.manager.Manager;
import dev.virtman.manager.store.EtcdJson;
import dev.virtman.manager.store.EtcdKeyspace;
import dev.virtman.manager.store.StoreException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.election.NoLeaderException;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which of the managers sharing one etcd cluster leads, by etcd's election recipe: each manager
 * holds a lease (kept alive over one gRPC stream) and campaigns with a key under it; the lowest
 * create revision wins. The leader plans trees and fails silent hosts ({@link Manager#lead});
 * the others follow: they re-read the state whenever etcd's revision moved and answer reads from
 * it, and refuse writes with 503 naming the leader.
 *
 * <p>Fencing: on winning, the store's fence becomes the election key and its create revision
 * ({@link EtcdKeyspace.Leader}), so every write is a transaction conditioned on this manager
 * still holding the key. A leader that was paused past its lease TTL wakes up to find its key
 * gone: its writes fail, and the watch loop here notices and makes it a follower.
 *
 * <p>Grace: a new leader re-reads the state and counts every host as just seen
 * ({@link Manager#reload}), so no healthy host is failed because its heartbeats went to the old
 * leader. Each manager also keeps {@code managers/ID} (its URL) under its lease, for
 * {@code GET /v1/cluster}.
 */
public final class EtcdLeadership implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdLeadership.class);
    /** Lease TTL: how long a dead leader holds the election. A new leader follows within about this. */
    public static final Duration LEASE_TTL = Duration.ofSeconds(3);
    private static final Duration POLL = Duration.ofMillis(250);
    private static final Duration RETRY = Duration.ofMillis(500);
    private static final Duration ATTEMPT = Duration.ofMillis(1_000);
    static final String ELECTION = "leader";
    static final String MANAGERS = "managers/";

    /** One manager as {@code managers/ID} describes it. */
    public record Member(String id, String url) { }

    private final EtcdBackend backend;
    private final EtcdKeyspace etcd;
    private final Manager manager;
    private final Runnable alsoReload;
    private final URI url;
    private final String id = UUID.randomUUID().toString();
    private final Thread campaigner;
    private final Thread follower;
    private volatile boolean closed;
    private volatile long lease;
    private volatile CloseableClient keepAlive;
    private volatile LeaderKey held;
    private volatile String leaderUrl;

    private EtcdLeadership(final EtcdBackend backend, final Manager manager, final Runnable alsoReload,
                           final URI url) {
        this.backend = backend;
        this.etcd = backend.keyspace();
        this.manager = manager;
        this.alsoReload = alsoReload;
        this.url = url;
        this.campaigner = Thread.ofPlatform().daemon().name("virtman-election").unstarted(this::campaign);
        this.follower = Thread.ofPlatform().daemon().name("virtman-follow").unstarted(this::follow);
    }

    /**
     * Starts as a follower and campaigns in the background. {@code alsoReload} runs whenever a
     * follower re-reads the state (the host credentials).
     */
    public static EtcdLeadership start(final EtcdBackend backend, final Manager manager, final Runnable alsoReload,
                                       final URI url) {
        backend.keyspace().fence(new EtcdKeyspace.Follower(null));
        manager.lead(false);
        EtcdLeadership l = new EtcdLeadership(backend, manager, alsoReload, url);
        manager.leaderHint(l::leaderUrl);
        l.campaigner.start();
        l.follower.start();
        return l;
    }

    public URI url() {
        return url;
    }

    public boolean leading() {
        return held != null && etcd.fence() instanceof EtcdKeyspace.Leader;
    }

    /** The leader's URL as last seen, or null while there is none. */
    public String leaderUrl() {
        return held != null ? url.toString() : leaderUrl;
    }

    /** Every manager whose lease is alive (serializable read). */
    public List<Member> members() {
        List<Member> out = new ArrayList<>();
        for (KeyValue kv : etcd.range(MANAGERS)) {
            out.add(EtcdJson.read(kv, Member.class));
        }
        return out;
    }

    public EtcdBackend backend() {
        return backend;
    }

    /** Lease, membership key, campaign; on losing the lease, again. */
    private void campaign() {
        while (!closed) {
            try {
                long id = etcd.await(() -> etcd.client().getLeaseClient().grant(LEASE_TTL.toSeconds()), "grant a lease").getID();
                lease = id;
                CompletableFuture<Void> lost = keepAlive(id);
                etcd.await(etcd.client().getKVClient().put(etcd.key(MANAGERS + this.id),
                        EtcdJson.write(new Member(this.id, url.toString())), PutOption.builder().withLeaseId(id).build()),
                        "announce this manager");
                Election election = etcd.client().getElectionClient();
                // Blocks until elected (no timeout: a follower may wait for hours).
                CompletableFuture<io.etcd.jetcd.election.CampaignResponse> won =
                        election.campaign(etcd.key(ELECTION), id, EtcdKeyspace.bytes(url.toString()));
                while (true) {
                    CompletableFuture.anyOf(won, lost).get();
                    if (won.isDone() || closed || !lost.isDone() || !reattach(id)) {
                        break;
                    }
                    lost = keepAlive(id); // the stream broke (its etcd member died), the lease lives on
                }
                if (!won.isDone() || closed) {
                    won.cancel(true);
                    stepDown("lease lost while campaigning");
                    continue;
                }
                LeaderKey key = won.get().getLeader();
                synchronized (this) {
                    held = key; // from here the follower pass leaves the fence alone
                }
                try {
                    // catch up (linearizable read, every host gets a grace period), then write
                    etcd.catchingUp(true);
                    manager.lead(true);
                    alsoReload.run();
                } catch (StoreException e) {
                    LOG.warn("elected, but cannot read the state ({}); resigning", e.getMessage());
                    stepDown("cannot catch up");
                    resignQuietly(key);
                    continue;
                } finally {
                    etcd.catchingUp(false);
                }
                synchronized (this) {
                    if (held == key) {
                        etcd.fence(new EtcdKeyspace.Leader(key.getKey(), key.getRevision()));
                    }
                }
                LOG.info("this manager ({}) leads (election key revision {}, lease {})", url, key.getRevision(),
                        Long.toHexString(id));
                while (true) {
                    lost.get();
                    if (closed || !reattach(id)) {
                        break;
                    }
                    lost = keepAlive(id);
                }
                stepDown("lease lost");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | ExecutionException e) {
                // whatever went wrong, this thread must go on campaigning: if it ended, this
                // manager would never lead again (a CancellationException once did that)
                if (!closed) {
                    LOG.warn("election: {}; retrying", e.toString());
                    stepDown("election failed");
                    sleep(RETRY);
                }
            }
        }
    }

    /** Keeps lease {@code id} alive over a new stream; the future completes when that stream ends or the lease expired. */
    private CompletableFuture<Void> keepAlive(final long id) {
        CompletableFuture<Void> lost = new CompletableFuture<>();
        CloseableClient old = keepAlive;
        if (old != null) {
            old.close();
        }
        keepAlive = etcd.client().getLeaseClient().keepAlive(id, new StreamObserver<>() {
            @Override
            public void onNext(final LeaseKeepAliveResponse r) {
                if (r.getTTL() <= 0) {
                    lost.complete(null);
                }
            }

            @Override
            public void onError(final Throwable t) {
                lost.complete(null);
            }

            @Override
            public void onCompleted() {
                lost.complete(null);
            }
        });
        return lost;
    }

    /**
     * After a keep-alive stream ended: whether the lease still lives (one keep-alive answered
     * with a positive TTL within the lease's TTL). A stream ends when the etcd member it went to
     * dies; the lease is etcd's and outlives that, so one lost member must not cost the leadership.
     */
    private boolean reattach(final long id) {
        long deadline = System.nanoTime() + LEASE_TTL.toNanos();
        while (!closed && System.nanoTime() < deadline) {
            try {
                LeaseKeepAliveResponse r = etcd.client().getLeaseClient().keepAliveOnce(id)
                        .get(ATTEMPT.toMillis(), TimeUnit.MILLISECONDS);
                return r.getTTL() > 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                sleep(Duration.ofMillis(100)); // no member answered yet: try again within the TTL
            }
        }
        return false;
    }

    private void stepDown(final String why) {
        boolean was;
        synchronized (this) {
            was = held != null;
            held = null;
            leaderUrl = null; // whoever led before this manager did is stale; the follower pass finds the next
            etcd.fence(new EtcdKeyspace.Follower(null));
        }
        manager.lead(false);
        CloseableClient k = keepAlive;
        if (k != null) {
            k.close();
        }
        if (was) {
            LOG.warn("this manager ({}) no longer leads: {}", url, why);
        }
    }

    private void resignQuietly(final LeaderKey key) {
        try {
            etcd.await(etcd.client().getElectionClient().resign(key), "resign");
        } catch (StoreException e) {
            LOG.debug("resign failed: {}", e.getMessage());
        }
    }

    /**
     * Every {@link #POLL}: a follower learns the leader and re-reads the state when etcd's
     * revision moved; a leader checks that its election key still exists (else it steps down; a
     * stale leader's writes fail on the fence meanwhile).
     */
    private void follow() {
        long seen = -1;
        while (!closed) {
            try {
                LeaderKey mine = held;
                if (mine != null) {
                    List<KeyValue> kvs = etcd.await(() -> etcd.client().getKVClient().get(mine.getKey()), "check leadership")
                            .getKvs();
                    if (kvs.isEmpty() || kvs.getFirst().getCreateRevision() != mine.getRevision()) {
                        stepDown("election key " + mine.getKey() + " is gone");
                        CloseableClient k = keepAlive;
                        if (k != null) {
                            k.close();
                        }
                    }
                    seen = -1;
                } else {
                    try {
                        leaderUrl = etcd.await(() -> etcd.client().getElectionClient().leader(etcd.key(ELECTION)),
                                "find the leader").getKv().getValue().toString(java.nio.charset.StandardCharsets.UTF_8);
                    } catch (StoreException e) {
                        if (!(e.getCause() instanceof NoLeaderException)) {
                            throw e;
                        }
                        leaderUrl = null;
                    }
                    synchronized (this) {
                        if (held == null) {
                            etcd.fence(new EtcdKeyspace.Follower(leaderUrl));
                        }
                    }
                    long revision = etcd.revision();
                    if (revision != seen && held == null) {
                        manager.reload(false);
                        alsoReload.run();
                        seen = revision;
                    }
                }
            } catch (StoreException e) {
                LOG.debug("follower pass: {}", e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("follower pass failed", e);
            }
            sleep(POLL);
        }
    }

    private static void sleep(final Duration d) {
        try {
            TimeUnit.MILLISECONDS.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Resigns (if leading) and revokes the lease, so another manager takes over at once. */
    @Override
    public void close() {
        closed = true;
        LeaderKey key = held;
        held = null;
        etcd.fence(new EtcdKeyspace.Follower(null));
        if (key != null) {
            resignQuietly(key);
        }
        CloseableClient k = keepAlive;
        if (k != null) {
            k.close();
        }
        long id = lease;
        if (id != 0) {
            try {
                etcd.await(etcd.client().getLeaseClient().revoke(id), "revoke the lease");
            } catch (StoreException e) {
                LOG.debug("revoke failed: {}", e.getMessage());
            }
        }
        campaigner.interrupt();
        follower.interrupt();
    }
}
