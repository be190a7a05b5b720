package dev.virtman.manager.http;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;
import dev.virtman.manager.api.Json;
import dev.virtman.manager.auth.Principal;
import java.util.Map;

/**
 * One authenticated REST request as a route sees it: the path parameters its template bound,
 * the query, the caller and the body, already read whole (bounded) by {@link RestHandler}.
 *
 * @param method      HTTP method
 * @param path        decoded path, for error messages
 * @param params      path template variables, decoded
 * @param query       query parameters, decoded (last value wins)
 * @param caller      who sent it
 * @param contentType the {@code Content-Type} header, or null
 * @param body        the body bytes (empty when none)
 */
record Call(String method, String path, Map<String, String> params, Map<String, String> query,
            Principal caller, String contentType, byte[] body) {

    private static final String JSON = "application/json";

    String param(final String name) {
        return params.get(name);
    }

    /** The body as JSON of {@code type}; strict (an unknown field is a 422). */
    <T> T body(final Class<T> type) {
        if (contentType != null && !contentType.toLowerCase(java.util.Locale.ROOT).startsWith(JSON)) {
            throw new ManagerException(Reason.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be " + JSON + ", got "
                    + contentType);
        }
        return Json.parse(body, type);
    }
}
