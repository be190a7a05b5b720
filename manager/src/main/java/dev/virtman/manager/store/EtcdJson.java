package dev.virtman.manager.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import java.io.IOException;

/**
 * The JSON of the values the etcd stores write: small records of plain fields (times as epoch
 * milliseconds), so the layout in etcd is readable with {@code etcdctl get --prefix} and does not
 * depend on the domain records' shape. Unknown fields are ignored: a newer manager may add some.
 */
public final class EtcdJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private EtcdJson() {
    }

    public static ByteSequence write(final Object value) {
        try {
            return ByteSequence.from(MAPPER.writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName(), e);
        }
    }

    public static <T> T read(final KeyValue kv, final Class<T> type) {
        try {
            return MAPPER.readValue(kv.getValue().getBytes(), type);
        } catch (IOException e) {
            throw new StoreException("unreadable value under etcd key " + kv.getKey() + ": " + e.getMessage(), e);
        }
    }
}
