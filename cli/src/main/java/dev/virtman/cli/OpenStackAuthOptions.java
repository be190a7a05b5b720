package dev.virtman.cli;

import dev.virtman.openstack.glance.KeystonePasswordAuth;
import dev.virtman.openstack.glance.TokenSource;
import dev.virtman.manager.client.TokenFiles;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Keystone credentials for Glance, named like the {@code openstack} client's options and read
 * from the same {@code OS_*} variables an openrc file sets. None given means Glance runs in
 * noauth mode.
 */
final class OpenStackAuthOptions {

    @Option(names = "--os-token-file", paramLabel = "FILE",
            description = "File holding a Keystone token sent as X-Auth-Token (default: $OS_TOKEN).")
    Path tokenFile;

    @Option(names = "--os-auth-url", paramLabel = "URL", defaultValue = "${env:OS_AUTH_URL}",
            description = "Keystone v3 endpoint for password auth (default: $OS_AUTH_URL).")
    String authUrl;

    @Option(names = "--os-username", paramLabel = "USER", defaultValue = "${env:OS_USERNAME}",
            description = "Default: $OS_USERNAME.")
    String username;

    @Option(names = "--os-password-file", paramLabel = "FILE",
            description = "File holding the Keystone password (default: $OS_PASSWORD).")
    Path passwordFile;

    /** A secret given on the command line, refused by {@link #tokens}: argv is visible in ps. */
    private String argvSecret;

    @Option(names = "--os-token", paramLabel = "TOKEN", hidden = true, description = "Removed: see --os-token-file.")
    void argvToken(final String value) {
        argvSecret = "--os-token";
    }

    @Option(names = "--os-password", paramLabel = "PASSWORD", hidden = true,
            description = "Removed: see --os-password-file.")
    void argvPassword(final String value) {
        argvSecret = "--os-password";
    }

    @Option(names = "--os-project-name", paramLabel = "PROJECT", defaultValue = "${env:OS_PROJECT_NAME}",
            description = "Project to scope the token to. Default: $OS_PROJECT_NAME.")
    String projectName;

    @Option(names = "--os-user-domain-name", paramLabel = "DOMAIN", defaultValue = "${env:OS_USER_DOMAIN_NAME:-Default}",
            description = "Default: $OS_USER_DOMAIN_NAME, else ${DEFAULT-VALUE}.")
    String userDomainName;

    @Option(names = "--os-project-domain-name", paramLabel = "DOMAIN",
            defaultValue = "${env:OS_PROJECT_DOMAIN_NAME:-Default}",
            description = "Default: $OS_PROJECT_DOMAIN_NAME, else ${DEFAULT-VALUE}.")
    String projectDomainName;

    /**
     * A fixed token, a Keystone password login, or none.
     *
     * @throws IllegalArgumentException if password auth is asked for with a credential missing
     */
    TokenSource tokens() {
        if (argvSecret != null) {
            throw new IllegalArgumentException(argvSecret + " VALUE was removed: a secret on the command line is"
                    + " visible to every local user in ps. Use " + argvSecret + "-file FILE (mode 0600) or $"
                    + (argvSecret.equals("--os-token") ? "OS_TOKEN" : "OS_PASSWORD") + ".");
        }
        String token = secret(tokenFile, "OS_TOKEN");
        String password = secret(passwordFile, "OS_PASSWORD");
        if (token != null && !token.isBlank()) {
            return TokenSource.fixed(token);
        }
        if (authUrl == null || authUrl.isBlank()) {
            return TokenSource.NONE;
        }
        if (username == null || password == null || projectName == null) {
            throw new IllegalArgumentException("--os-auth-url needs --os-username, --os-password-file (or"
                    + " $OS_PASSWORD) and --os-project-name");
        }
        return new KeystonePasswordAuth(new KeystonePasswordAuth.Credentials(URI.create(authUrl), username, password,
                userDomainName, projectName, projectDomainName));
    }

    /** The secret in {@code file}, else in the environment variable, else null. */
    private static String secret(final Path file, final String variable) {
        if (file == null) {
            return System.getenv(variable);
        }
        try {
            return TokenFiles.readSecret(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
