package dev.virtman.openstack.glance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.virtman.openstack.glance.GlanceException.Kind;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A project-scoped Keystone v3 token from password authentication
 * ({@code POST /v3/auth/tokens}, the token arrives in the {@code X-Subject-Token} header), the
 * same request {@code openstack token issue} makes. The token is cached and requested again
 * when Glance rejects it (it expired).
 */
public final class KeystonePasswordAuth implements TokenSource {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String SUBJECT_TOKEN = "X-Subject-Token";
    private static final int CREATED = 201;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Credentials as the {@code OS_*} variables of an openrc file name them.
     *
     * @param authUrl           Keystone endpoint, with or without the trailing {@code /v3}
     * @param username          user name
     * @param password          password
     * @param userDomainName    domain of the user ({@code Default} in most clouds)
     * @param projectName       project to scope the token to
     * @param projectDomainName domain of the project
     */
    public record Credentials(URI authUrl, String username, String password, String userDomainName,
                              String projectName, String projectDomainName) {
        public Credentials {
            Objects.requireNonNull(authUrl, "auth URL");
            Objects.requireNonNull(username, "username");
            Objects.requireNonNull(password, "password");
            Objects.requireNonNull(projectName, "project name");
            userDomainName = userDomainName == null ? "Default" : userDomainName;
            projectDomainName = projectDomainName == null ? "Default" : projectDomainName;
        }

        /** {@code .../v3/auth/tokens}. */
        URI tokensUri() {
            String base = authUrl.toString().replaceAll("/+$", "");
            return URI.create((base.endsWith("/v3") ? base : base + "/v3") + "/auth/tokens");
        }
    }

    private final Credentials credentials;
    private final HttpClient http;
    private String token;

    public KeystonePasswordAuth(final Credentials credentials) {
        this.credentials = credentials;
        this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    }

    @Override
    public synchronized String token() {
        if (token == null) {
            token = issue();
        }
        return token;
    }

    @Override
    public synchronized boolean rejected(final String rejected) {
        if (Objects.equals(token, rejected)) {
            token = null;
        }
        return true;
    }

    /** The request body of password authentication scoped to a project (Keystone v3 API). */
    byte[] requestBody() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode auth = root.putObject("auth");
        ObjectNode identity = auth.putObject("identity");
        identity.putArray("methods").add("password");
        ObjectNode user = identity.putObject("password").putObject("user");
        user.put("name", credentials.username());
        user.putObject("domain").put("name", credentials.userDomainName());
        user.put("password", credentials.password());
        ObjectNode project = auth.putObject("scope").putObject("project");
        project.put("name", credentials.projectName());
        project.putObject("domain").put("name", credentials.projectDomainName());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String issue() {
        URI uri = credentials.tokensUri();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(requestBody())).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new GlanceException(Kind.UNAVAILABLE, "cannot reach Keystone at " + uri + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GlanceException(Kind.UNAVAILABLE, "interrupted while asking Keystone for a token", e);
        }
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            throw new GlanceException(Kind.UNAUTHORIZED, "Keystone at " + uri + " refused the credentials of user '"
                    + credentials.username() + "' for project '" + credentials.projectName() + "' (HTTP " + status + ")");
        }
        List<String> subject = response.headers().allValues(SUBJECT_TOKEN);
        if (status != CREATED || subject.isEmpty()) {
            throw new GlanceException(Kind.UNAVAILABLE, "Keystone at " + uri + " answered HTTP " + status
                    + " without a token: " + GlanceClient.abbreviate(response.body()));
        }
        return subject.getFirst();
    }
}
