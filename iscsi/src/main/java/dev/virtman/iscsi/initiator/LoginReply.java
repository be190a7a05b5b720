package dev.virtman.iscsi.initiator;

import dev.virtman.iscsi.pdu.LoginResponseHeader;
import dev.virtman.iscsi.pdu.TextParameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One complete Login Response (continuations joined): its final header and its keys.
 *
 * @param header the header of the last PDU of the response
 * @param keys   key=value pairs in order; a repeated key keeps its last value
 */
record LoginReply(LoginResponseHeader header, Map<String, String> keys) {

    static LoginReply of(final LoginResponseHeader header, final List<TextParameter> parameters) {
        Map<String, String> map = new LinkedHashMap<>();
        for (TextParameter p : parameters) {
            map.put(p.key(), p.value());
        }
        return new LoginReply(header, map);
    }

    String get(final String key) {
        return keys.get(key);
    }
}
