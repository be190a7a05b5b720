package dev.virtman.manager.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.io.IOException;

/**
 * The one JSON mapping of the REST API, shared by server and client. The manager is strict on
 * requests ({@link #MAPPER}, {@link #parse}): an unknown field is rejected with a 422, because a
 * typo must not silently become a missing value. Clients read replies with {@link #REPLIES}, which
 * skips fields it does not know: views gain fields as the manager evolves ({@code ImageView.glance},
 * for one), and a CLI or agent one release older must keep working against a newer manager.
 */
public final class Json {

    /** Writes everything; reads requests strictly (the manager side). */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .setSerializationInclusion(JsonInclude.Include.ALWAYS);

    /**
     * Reads the manager's replies (the client side): like {@link #MAPPER} except that a field
     * unknown to this build is ignored (forward compatibility). A missing field still reads as
     * null/0/false, exactly as before.
     */
    public static final ObjectMapper REPLIES = MAPPER.copy()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Json() {
    }

    /**
     * Parses a request body.
     *
     * @throws ManagerException 400 for malformed JSON, 422 for well-formed JSON of the wrong shape
     */
    public static <T> T parse(final byte[] body, final Class<T> type) {
        if (body.length == 0) {
            throw new ManagerException(ManagerException.Reason.MALFORMED, "request body is required (JSON)");
        }
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) {
                throw new ManagerException(ManagerException.Reason.MALFORMED, "request body must be a JSON object");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            throw ManagerException.invalid("unknown field '" + e.getPropertyName() + "'; expected one of "
                    + e.getKnownPropertyIds());
        } catch (InvalidFormatException e) {
            throw ManagerException.invalid("field '" + path(e) + "' has the wrong type: " + e.getOriginalMessage());
        } catch (MismatchedInputException e) {
            String field = path(e);
            throw ManagerException.invalid(field.isEmpty() ? "expected a JSON object"
                    : "field '" + field + "' has the wrong type or shape");
        } catch (JsonParseException e) {
            throw new ManagerException(ManagerException.Reason.MALFORMED, "malformed JSON: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw ManagerException.invalid("invalid request: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ManagerException(ManagerException.Reason.MALFORMED, "unreadable body: " + e.getMessage());
        }
    }

    public static byte[] write(final Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    private static String path(final MismatchedInputException e) {
        StringBuilder sb = new StringBuilder();
        for (var ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }
}
