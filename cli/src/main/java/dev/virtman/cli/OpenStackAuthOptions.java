package dev.virtman.cli;

import dev.virtman.openstack.glance.KeystonePasswordAuth;
import dev.virtman.openstack.glance.TokenSource;
import java.net.URI;
import picocli.CommandLine.Option;

/**
 * Keystone credentials for Glance, named like the {@code openstack} client's options and read
 * from the same {@code OS_*} variables an openrc file sets. None given means Glance runs in
 * noauth mode.
 */
final class OpenStackAuthOptions {

    @Option(names = "--os-token", paramLabel = "TOKEN", defaultValue = "${env:OS_TOKEN}",
            description = "Keystone token sent as X-Auth-Token (default: $OS_TOKEN).")
    String token;

    @Option(names = "--os-auth-url", paramLabel = "URL", defaultValue = "${env:OS_AUTH_URL}",
            description = "Keystone v3 endpoint for password auth (default: $OS_AUTH_URL).")
    String authUrl;

    @Option(names = "--os-username", paramLabel = "USER", defaultValue = "${env:OS_USERNAME}",
            description = "Default: $OS_USERNAME.")
    String username;

    @Option(names = "--os-password", paramLabel = "PASSWORD", defaultValue = "${env:OS_PASSWORD}",
            description = "Default: $OS_PASSWORD (prefer the variable: arguments are visible in ps).")
    String password;

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
        if (token != null && !token.isBlank()) {
            return TokenSource.fixed(token);
        }
        if (authUrl == null || authUrl.isBlank()) {
            return TokenSource.NONE;
        }
        if (username == null || password == null || projectName == null) {
            throw new IllegalArgumentException("--os-auth-url needs --os-username, --os-password (or $OS_PASSWORD)"
                    + " and --os-project-name");
        }
        return new KeystonePasswordAuth(new KeystonePasswordAuth.Credentials(URI.create(authUrl), username, password,
                userDomainName, projectName, projectDomainName));
    }
}
