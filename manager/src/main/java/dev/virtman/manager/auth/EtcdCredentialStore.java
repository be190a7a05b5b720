package dev.virtman.manager.auth;

import dev.virtman.manager.store.EtcdJson;
import dev.virtman.manager.store.EtcdKeyspace;
import io.etcd.jetcd.KeyValue;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Host credential hashes in etcd ({@code credentials/HOST}), each write one fenced transaction. */
public final class EtcdCredentialStore implements HostCredentialStore {
    private static final String CREDENTIALS = "credentials/";

    record Value(String hostId, String tokenSha256, long issuedAt) { }

    private final EtcdKeyspace etcd;

    public EtcdCredentialStore(final EtcdKeyspace etcd) {
        this.etcd = etcd;
    }

    @Override
    public Map<String, String> load() {
        List<Value> values = new ArrayList<>();
        for (KeyValue kv : etcd.range(CREDENTIALS)) {
            values.add(EtcdJson.read(kv, Value.class));
        }
        values.sort(Comparator.comparingLong(Value::issuedAt).thenComparing(Value::hostId));
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach(v -> out.put(v.hostId(), v.tokenSha256()));
        return out;
    }

    @Override
    public void put(final String hostId, final String tokenSha256, final Instant issuedAt) {
        etcd.txn(List.of(), List.of(new EtcdKeyspace.Write(etcd.key(CREDENTIALS + hostId),
                EtcdJson.write(new Value(hostId, tokenSha256, issuedAt.toEpochMilli())))),
                "store the credential of host " + hostId);
    }

    @Override
    public void delete(final String hostId) {
        etcd.txn(List.of(), List.of(new EtcdKeyspace.Write(etcd.key(CREDENTIALS + hostId), null)),
                "revoke the credential of host " + hostId);
    }

    @Override
    public void close() {
        // the shared keyspace is closed by its backend
    }
}
