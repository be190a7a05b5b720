package dev.virtman.manager.orders;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.store.StoreException;
import java.io.IOException;

/**
 * The stored form of one VM order (the same JSON in SQLite's column and under the etcd key):
 * plain fields, independent of the API record's shape; unknown fields are ignored so a newer
 * manager may add some.
 */
record OrderValue(String name, String imageId, String kernel, String initrd, String append, int memoryMiB,
                  String upMarker, int timeoutSeconds, String desired) {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    static byte[] write(final VmOrder o) {
        try {
            return MAPPER.writeValueAsBytes(new OrderValue(o.name(), o.imageId(), o.kernel(), o.initrd(), o.append(),
                    o.memoryMiB(), o.upMarker(), o.timeoutSeconds(), o.desired()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write VM order " + o.name(), e);
        }
    }

    static VmOrder read(final byte[] json, final String where) {
        try {
            OrderValue v = MAPPER.readValue(json, OrderValue.class);
            return new VmOrder(v.name(), v.imageId(), v.kernel(), v.initrd(), v.append(), v.memoryMiB(), v.upMarker(),
                    v.timeoutSeconds(), v.desired());
        } catch (IOException e) {
            throw new StoreException("unreadable VM order in " + where + ": " + e.getMessage(), e);
        }
    }
}
