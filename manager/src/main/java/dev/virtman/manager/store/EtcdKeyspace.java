package dev.virtman.manager.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
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
 * that is not the leader refuses writes before sending them.
 *
 * <p><b>Failures.</b> Every call waits at most {@code timeout}; a cluster without quorum does not
 * answer writes, which then fail with a {@link StoreException} whose {@link
 * StoreException#unavailable()} is true (the REST API answers 503). Reads are serializable
 * (answered by the member this client talks to), so they still work without quorum, possibly a
 * little stale.
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

    private final Client client;
    private final String prefix;
    private final Duration timeout;
    private volatile Fence fence = new Unfenced();

    private EtcdKeyspace(final Client client, final String prefix, final Duration timeout) {
        this.client = client;
        this.prefix = prefix;
        this.timeout = timeout;
    }

    /**
     * A client of the etcd cluster at {@code endpoints} (it fails over between them by itself)
     * whose keys all start with {@code prefix}. Connecting is lazy: an unreachable cluster shows
     * as {@link StoreException}s on use.
     */
    public static EtcdKeyspace connect(final List<URI> endpoints, final String prefix, final Duration timeout) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoint");
        }
        if (!prefix.startsWith("/") || !prefix.endsWith("/")) {
            throw new IllegalArgumentException("etcd key prefix must start and end with '/': " + prefix);
        }
        Client client = Client.builder().endpoints(endpoints.toArray(URI[]::new))
                .connectTimeout(timeout).keepaliveTime(Duration.ofSeconds(5)).keepaliveTimeout(Duration.ofSeconds(3))
                .build();
        return new EtcdKeyspace(client, prefix, timeout);
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
     * Commits {@code ops} if every comparison holds and this manager may write.
     *
     * @return whether the comparisons held (false: nothing was written)
     * @throws NotLeaderException when this manager does not (or no longer) lead
     */
    public boolean txn(final List<Cmp> compares, final List<Op> ops, final String what) {
        Fence f = fence;
        List<Cmp> all = new ArrayList<>(compares);
        switch (f) {
            case Follower(String leader) -> throw new NotLeaderException(leader);
            case Leader(ByteSequence electionKey, long revision) ->
                    all.add(new Cmp(electionKey, Cmp.Op.EQUAL, CmpTarget.createRevision(revision)));
            case Unfenced() -> { }
        }
        TxnResponse r = await(client.getKVClient().txn().If(all.toArray(Cmp[]::new)).Then(ops.toArray(Op[]::new))
                .commit(), what);
        if (r.isSucceeded()) {
            return true;
        }
        if (f instanceof Leader(ByteSequence electionKey, long revision)) {
            List<KeyValue> kvs = await(client.getKVClient().get(electionKey), what).getKvs();
            if (kvs.isEmpty() || kvs.getFirst().getCreateRevision() != revision) {
                throw new NotLeaderException(null);
            }
        }
        return false;
    }

    /** Every key under {@code path} (serializable read), in key order. */
    public List<KeyValue> range(final String path) {
        return get(key(path), GetOption.builder().isPrefix(true).withSerializable(true).build(), "read " + path).getKvs();
    }

    /** Everything under the prefix at one revision. */
    public List<KeyValue> all() {
        return range("");
    }

    public Optional<KeyValue> get(final String path) {
        List<KeyValue> kvs = get(key(path), GetOption.builder().withSerializable(true).build(), "read " + path).getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(kvs.getFirst());
    }

    private GetResponse get(final ByteSequence key, final GetOption option, final String what) {
        return await(client.getKVClient().get(key, option), what);
    }

    /** Waits at most the timeout; failures become {@link StoreException}s. */
    public <T> T await(final CompletableFuture<T> future, final String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
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

    @Override
    public void close() {
        client.close();
    }
}
