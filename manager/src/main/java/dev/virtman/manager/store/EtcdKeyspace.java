package dev.virtman.manager.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The manager's connection to etcd and its key space ({@code PREFIX/...}), shared by the etcd
 * implementations of the state, volume and credential stores.
 *
 * <p><b>Fencing.</b> Every write is one etcd transaction, and while a {@link Fence} is set each
 * transaction also compares the create revision of the leader's election key: if this manager's
 * key is gone (its lease expired, another manager was elected) the transaction fails and nothing
 * is written, however late a paused old leader wakes up ({@link NotLeaderException}). A manager
 * that is not the leader refuses writes before sending them. A leader's transactions also put
 * its term (the election key's create revision) at {@link #WRITER}.
 *
 * <p><b>Failures.</b> Every call waits at most {@code timeout}; a cluster without quorum does not
 * answer writes, which then fail with a {@link StoreException} whose {@link
 * StoreException#unavailable()} is true (the REST API answers 503). Reads are serializable
 * (answered by the member this client talks to, possibly a little stale), so they work with
 * two of three members down ({@code EtcdBackendTest} checks every store's).
 */
public final class EtcdKeyspace implements AutoCloseable {

    /** Where writes may go. */
    public sealed interface Fence permits Unfenced, Leader, Follower { }

    /** No election: the only writer (tests of the store itself). */
    public record Unfenced() implements Fence { }

    /** This manager leads while {@code electionKey} exists with {@code createRevision}. */
    public record Leader(ByteSequence electionKey, long createRevision) implements Fence { }

    /** Another manager (at {@code leaderUrl}, null while unknown) leads; writes are refused. */
    public record Follower(String leaderUrl) implements Fence { }

    /**
     * The key every fenced transaction also writes: the create revision of the election key of
     * the leader that committed it (its term). etcd keeps each revision, so the key's history
     * shows which leader made each change, and fencing means the terms never go back
     * ({@code RandomFaultTest} reads the history to check that no two leaders' writes
     * interleaved).
     */
    public static final String WRITER = "writer";

    /** One attempt of a transaction: a write etcd lost in a raft leader change is retried after this. */
    static final Duration ATTEMPT_TIMEOUT = Duration.ofMillis(1_500);
    /** How long {@link #connect} waits for etcd to answer a first read. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    private final Client client;
    private final String prefix;
    private final Duration timeout;
    private volatile Fence fence = new Unfenced();
    private volatile boolean catchingUp;

    private EtcdKeyspace(final Client client, final String prefix, final Duration timeout) {
        this.client = client;
        this.prefix = prefix;
        this.timeout = timeout;
    }

    /**
     * A client of the etcd cluster at {@code endpoints} (it fails over between them by itself)
     * whose keys all start with {@code prefix}, once a first read answered (within
     * {@link #CONNECT_TIMEOUT}; else {@link StoreException}). Later, members may come and go: a
     * call is retried on another member until the timeout.
     */
    public static EtcdKeyspace connect(final List<URI> endpoints, final String prefix, final Duration timeout) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoint");
        }
        if (!prefix.startsWith("/") || !prefix.endsWith("/")) {
            throw new IllegalArgumentException("etcd key prefix must start and end with '/': " + prefix);
        }
        Client client = Client.builder().endpoints(endpoints.toArray(URI[]::new))
                .loadBalancerPolicy("round_robin") // a dead member is skipped at once (pick_first waits to reconnect)
                .waitForReady(false) // no member ready: fail the attempt now, the retry loop sends it again
                .connectTimeout(timeout).keepaliveTime(Duration.ofSeconds(5)).keepaliveTimeout(Duration.ofSeconds(3))
                .build();
        EtcdKeyspace etcd = new EtcdKeyspace(client, prefix, timeout);
        try {
            // The first call sets up gRPC (seconds on a loaded machine): give it the connect timeout.
            new EtcdKeyspace(client, prefix, CONNECT_TIMEOUT).revision();
        } catch (StoreException e) {
            client.close();
            throw new StoreException("cannot reach etcd at " + endpoints + " within " + CONNECT_TIMEOUT.toSeconds()
                    + " s: " + e.getMessage(), e, true);
        }
        return etcd;
    }

    public Client client() {
        return client;
    }

    public Duration timeout() {
        return timeout;
    }

    public String prefix() {
        return prefix;
    }

    public void fence(final Fence next) {
        this.fence = Objects.requireNonNull(next);
    }

    public Fence fence() {
        return fence;
    }

    /** While set, {@link #all()} reads linearizably: a newly elected leader catching up before it writes. */
    public void catchingUp(final boolean on) {
        this.catchingUp = on;
    }

    public ByteSequence key(final String path) {
        return bytes(prefix + path);
    }

    /** The key's path below the prefix. */
    public String path(final ByteSequence key) {
        return key.toString(StandardCharsets.UTF_8).substring(prefix.length());
    }

    public static ByteSequence bytes(final String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /**
     * One write of a transaction: put {@code value} at {@code key}, or delete it when {@code value}
     * is null (with {@code prefix}: every key starting with {@code key}).
     */
    public record Write(ByteSequence key, ByteSequence value, boolean prefix) {
        public Write {
            if (prefix && value != null) {
                throw new IllegalArgumentException("only a delete takes a prefix");
            }
        }

        public Write(final ByteSequence key, final ByteSequence value) {
            this(key, value, false);
        }

        /** Deletes every key starting with {@code prefix}. */
        public static Write deletePrefix(final ByteSequence prefix) {
            return new Write(prefix, null, true);
        }

        Op op() {
            if (value == null) {
                return Op.delete(key, prefix ? DeleteOption.builder().isPrefix(true).build() : DeleteOption.DEFAULT);
            }
            return Op.put(key, value, PutOption.DEFAULT);
        }
    }

    /**
     * Commits {@code writes} if every comparison holds and this manager may write.
     *
     * <p>Each attempt waits at most {@link #ATTEMPT_TIMEOUT}, and a failed attempt is retried
     * until {@code timeout}: etcd loses a proposal in flight when its raft leader dies and
     * answers it only at its own request timeout (over 5 s), while the next attempt succeeds as
     * soon as a new raft leader is elected (under a second). An attempt that timed out may still
     * have committed; if a retry then finds its comparisons false, the writes are checked: all
     * in place means the earlier attempt committed them.
     *
     * @return whether the comparisons held (false: nothing was written)
     * @throws NotLeaderException when this manager does not (or no longer) lead
     */
    public boolean txn(final List<Cmp> compares, final List<Write> writes, final String what) {
        Fence f = fence;
        List<Cmp> all = new ArrayList<>(compares);
        List<Write> signed = writes;
        switch (f) {
            case Follower(String leader) -> throw new NotLeaderException(leader);
            case Leader(ByteSequence electionKey, long revision) -> {
                all.add(new Cmp(electionKey, Cmp.Op.EQUAL, CmpTarget.createRevision(revision)));
                signed = new ArrayList<>(writes);
                signed.add(new Write(key(WRITER), bytes(Long.toString(revision))));
            }
            case Unfenced() -> { }
        }
        Op[] ops = signed.stream().map(Write::op).toArray(Op[]::new);
        Cmp[] ifs = all.toArray(Cmp[]::new);
        boolean retried = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        TxnResponse r;
        while (true) {
            try {
                r = attempt(client.getKVClient().txn().If(ifs).Then(ops).commit(), deadline, what);
                break;
            } catch (StoreException e) {
                if (System.nanoTime() >= deadline) {
                    throw e;
                }
                retried = true;
            }
        }
        if (r.isSucceeded()) {
            return true;
        }
        if (f instanceof Leader(ByteSequence electionKey, long revision)) {
            List<KeyValue> kvs = await(() -> client.getKVClient().get(electionKey), what).getKvs();
            if (kvs.isEmpty() || kvs.getFirst().getCreateRevision() != revision) {
                throw new NotLeaderException(null);
            }
        }
        return retried && inPlace(signed, what);
    }

    /** Whether every write is what etcd holds now (linearizable reads). */
    private boolean inPlace(final List<Write> writes, final String what) {
        for (Write w : writes) {
            List<KeyValue> kvs = await(() -> client.getKVClient().get(w.key(),
                    GetOption.builder().isPrefix(w.prefix()).build()), what).getKvs();
            boolean ok = w.value() == null ? kvs.isEmpty() : !kvs.isEmpty() && kvs.getFirst().getValue().equals(w.value());
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private <T> T attempt(final CompletableFuture<T> future, final long deadline, final String what) {
        return attempt(future, deadline, ATTEMPT_TIMEOUT.toNanos(), what);
    }

    private <T> T attempt(final CompletableFuture<T> future, final long deadline, final long most, final String what) {
        long left = Math.min(most, Math.max(deadline - System.nanoTime(), 1));
        try {
            return future.get(left, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.CancellationException e) {
            throw StoreException.unavailable("etcd call cancelled (" + what + ")", e);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw StoreException.unavailable("etcd did not answer within " + timeout.toMillis() + " ms (" + what
                    + "): no quorum or no member reachable", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw StoreException.unavailable("etcd failed (" + what + "): " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StoreException.unavailable("interrupted waiting for etcd (" + what + ")", e);
        }
    }

    /** Every key under {@code path} (serializable read, linearizable while catching up to lead), in key order. */
    public List<KeyValue> range(final String path) {
        return get(key(path), GetOption.builder().isPrefix(true).withSerializable(!catchingUp).build(), "read " + path)
                .getKvs();
    }

    /** Every key under {@code path}, read linearizably (what a quorum holds now), in key order. */
    public List<KeyValue> rangeLinearizable(final String path) {
        return get(key(path), GetOption.builder().isPrefix(true).withSerializable(false).build(), "read " + path)
                .getKvs();
    }

    /**
     * Everything under the prefix at one revision: linearizable while this manager leads or is
     * catching up to lead (it is about to write on top of it), serializable otherwise.
     */
    public List<KeyValue> all() {
        boolean linearizable = catchingUp || fence instanceof Leader;
        return get(key(""), GetOption.builder().isPrefix(true).withSerializable(!linearizable).build(), "read all")
                .getKvs();
    }

    /** The store's current revision, as the member this client talks to knows it. */
    public long revision() {
        return get(key(""), GetOption.builder().isPrefix(true).withCountOnly(true).withSerializable(true).build(),
                "read the revision").getHeader().getRevision();
    }

    public Optional<KeyValue> get(final String path) {
        List<KeyValue> kvs = get(key(path), GetOption.builder().withSerializable(true).build(), "read " + path).getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(kvs.getFirst());
    }

    private GetResponse get(final ByteSequence key, final GetOption option, final String what) {
        return await(() -> client.getKVClient().get(key, option), what);
    }

    /**
     * Waits for one call that is already under way at most the timeout (one attempt: a future
     * cannot be sent again); failures become {@link StoreException}s. Prefer
     * {@link #await(java.util.function.Supplier, String)} for calls that may be repeated.
     */
    public <T> T await(final CompletableFuture<T> future, final String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        return attempt(future, deadline, timeout.toNanos(), what);
    }

    /**
     * Waits for an idempotent call (a read, a lease call) at most the timeout, making a fresh
     * call each {@link #ATTEMPT_TIMEOUT} (a call that went to a member that just died is sent
     * again and reaches another); failures become {@link StoreException}s.
     *
     * <p>Each attempt must be a new call: the attempt that timed out is cancelled, and waiting on
     * a cancelled future again threw {@code CancellationException}, which killed the election
     * thread when a lease grant timed out without quorum (no manager led again after quorum
     * returned).
     */
    public <T> T await(final java.util.function.Supplier<CompletableFuture<T>> call, final String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        CompletableFuture<T> first = call.get();
        CompletableFuture<T> current = first;
        while (true) {
            try {
                return attempt(current, deadline, what);
            } catch (StoreException e) {
                if (System.nanoTime() >= deadline) {
                    throw e;
                }
                current = call.get();
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
