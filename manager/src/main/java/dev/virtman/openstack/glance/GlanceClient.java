package dev.virtman.openstack.glance;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.virtman.openstack.glance.GlanceException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Client of the two Glance v2 image API calls an import makes: the image record
 * ({@code GET /v2/images/{id}}) and its data ({@code GET /v2/images/{id}/file}, streamed).
 * Authenticates with {@code X-Auth-Token} from a {@link TokenSource}; a rejected token is
 * renewed once. Thread-safe.
 */
public final class GlanceClient {

    /** Glance image ids are UUIDs; anything else is refused before it reaches a URL path. */
    public static final Pattern IMAGE_ID = Pattern.compile(
            "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(60);
    private static final String AUTH_HEADER = "X-Auth-Token";
    private static final int OK = 200;
    private static final int NO_CONTENT = 204;
    private static final int UNAUTHORIZED = 401;
    private static final int FORBIDDEN = 403;
    private static final int NOT_FOUND = 404;
    /** Longest piece of an error body quoted in a message. */
    private static final int QUOTE_CHARS = 300;
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final URI base;
    private final TokenSource tokens;
    private final HttpClient http;

    /**
     * @param endpoint Glance's public endpoint, e.g. {@code http://controller:9292} (a trailing
     *                 {@code /v2} is accepted too)
     */
    public GlanceClient(final URI endpoint, final TokenSource tokens) {
        String s = Objects.requireNonNull(endpoint, "endpoint").toString().replaceAll("/+$", "");
        if (s.endsWith("/v2")) {
            s = s.substring(0, s.length() - "/v2".length());
        }
        if (endpoint.getScheme() == null || endpoint.getHost() == null) {
            throw new IllegalArgumentException("Glance URL must be http(s)://host:port, got " + endpoint);
        }
        this.base = URI.create(s);
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build(); // a redirect must not carry the token elsewhere
    }

    public URI endpoint() {
        return base;
    }

    /** {@code GET /v2/images/{id}}. */
    public GlanceImage image(final String imageId) {
        HttpResponse<InputStream> response = send(imageId, "", METADATA_TIMEOUT);
        try (InputStream body = response.body()) {
            requireOk(imageId, response.statusCode(), body);
            GlanceImage image = JSON.readValue(body.readNBytes(MAX_RECORD_BYTES), GlanceImage.class);
            if (image == null || !requireId(imageId).equalsIgnoreCase(String.valueOf(image.id()))) {
                throw new GlanceException(Kind.UNAVAILABLE, "Glance at " + base + " answered GET /v2/images/" + imageId
                        + " with a record for another image (" + (image == null ? null : image.id()) + ")");
            }
            return image;
        } catch (IOException e) {
            throw new GlanceException(Kind.UNAVAILABLE, "unreadable image record from Glance at " + base + ": "
                    + e.getMessage(), e);
        }
    }

    /** An image record is a few KB; custom properties are bounded by Glance's quotas. */
    private static final int MAX_RECORD_BYTES = 1 << 20;

    /**
     * {@code GET /v2/images/{id}/file}: the image data as a stream the caller must close. The
     * length is not trusted here; {@link DownloadVerifier} bounds it by the recorded size.
     */
    public InputStream openData(final String imageId) {
        HttpResponse<InputStream> response = send(imageId, "/file", null);
        InputStream body = response.body();
        if (response.statusCode() == NO_CONTENT) {
            close(body);
            throw new GlanceException(Kind.UNSUPPORTED, "Glance image " + imageId + " has no data (HTTP 204)");
        }
        try {
            requireOk(imageId, response.statusCode(), body);
        } catch (IOException e) {
            close(body);
            throw new GlanceException(Kind.UNAVAILABLE, "Glance at " + base + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(body);
            throw e;
        }
        return body;
    }

    private HttpResponse<InputStream> send(final String imageId, final String suffix, final Duration timeout) {
        URI uri = URI.create(base + "/v2/images/" + requireId(imageId) + suffix);
        String token = tokens.token();
        HttpResponse<InputStream> response = sendOnce(uri, token, timeout);
        if (response.statusCode() == UNAUTHORIZED && token != null && tokens.rejected(token)) {
            close(response.body());
            response = sendOnce(uri, tokens.token(), timeout);
        }
        return response;
    }

    private HttpResponse<InputStream> sendOnce(final URI uri, final String token, final Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET().header("Accept", "*/*");
        if (timeout != null) {
            // The data request has no overall timeout: a large image may stream for an hour.
            request.timeout(timeout);
        }
        if (token != null) {
            request.header(AUTH_HEADER, token);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new GlanceException(Kind.UNAVAILABLE, "cannot reach Glance at " + base + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GlanceException(Kind.UNAVAILABLE, "interrupted while talking to Glance", e);
        }
    }

    private void requireOk(final String imageId, final int status, final InputStream body) throws IOException {
        if (status == OK) {
            return;
        }
        String text = abbreviate(new String(body.readNBytes(QUOTE_CHARS * 4), StandardCharsets.UTF_8));
        switch (status) {
            case NOT_FOUND -> throw new GlanceException(Kind.NOT_FOUND, "Glance at " + base + " has no image "
                    + imageId + " (or this token may not see it)");
            case UNAUTHORIZED, FORBIDDEN -> throw new GlanceException(Kind.UNAUTHORIZED, "Glance at " + base
                    + " refused access to image " + imageId + " (HTTP " + status + "): " + text
                    + " (pass --os-token-file or --os-auth-url/--os-username/--os-password-file/--os-project-name, or the OS_* variables)");
            default -> throw new GlanceException(Kind.UNAVAILABLE, "Glance at " + base + " answered HTTP " + status
                    + " for image " + imageId + ": " + text);
        }
    }

    private static String requireId(final String imageId) {
        if (imageId == null || !IMAGE_ID.matcher(imageId).matches()) {
            throw new GlanceException(Kind.NOT_FOUND, "not a Glance image id (a UUID): '" + imageId + "'");
        }
        return imageId;
    }

    private static void close(final InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the connection is discarded either way
        }
    }

    /** One line of at most {@value #QUOTE_CHARS} characters of a peer's error text. */
    static String abbreviate(final String text) {
        String line = text == null ? "" : text.replaceAll("\\s+", " ").strip();
        return line.length() <= QUOTE_CHARS ? line : line.substring(0, QUOTE_CHARS) + "...";
    }
}
