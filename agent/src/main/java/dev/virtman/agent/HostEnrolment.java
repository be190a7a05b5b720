package dev.virtman.agent;

import dev.virtman.manager.api.HostCredentialView;
import dev.virtman.manager.client.ManagerClient;
import dev.virtman.manager.client.ManagerClientException;
import dev.virtman.manager.client.TokenFiles;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a managed agent gets the credential it acts with: its own host token, issued by the
 * manager when the host enrols and kept in {@code <cache-dir>/host-<id>.token} (mode 0600). The
 * bootstrap token (the manager's enrolment token, or its admin token) is used only to enrol: on
 * the first start, or when the manager no longer knows the stored token (the host was removed).
 * A compute node so never holds a credential that could act as another host.
 */
final class HostEnrolment {

    private static final Logger LOG = LoggerFactory.getLogger(HostEnrolment.class);
    private static final int UNAUTHORIZED = 401;

    private HostEnrolment() {
    }

    /** Where the agent of {@code hostId} keeps its host token. */
    static Path tokenFile(final Path cacheDir, final String hostId) {
        return cacheDir.resolve("host-" + hostId + ".token");
    }

    static boolean enrolled(final Path cacheDir, final String hostId) {
        return java.nio.file.Files.exists(tokenFile(cacheDir, hostId));
    }

    /** A client acting as the configured host, enrolling it first if needed. */
    static ManagerClient hostClient(final ManagedAgentConfig config) throws IOException {
        Path file = tokenFile(config.cacheDir(), config.hostId());
        String stored = TokenFiles.readIfPresent(file);
        javax.net.ssl.SSLContext tls = ManagerClient.trust(config.caFile());
        if (stored != null) {
            ManagerClient client = new ManagerClient(config.managers(), stored, tls);
            if (accepted(client, config.hostId())) {
                return client;
            }
            if (config.token() == null) {
                throw new IOException("the manager rejects the credential of host " + config.hostId() + " in " + file
                        + " (revoked, or the host was removed): enrol again with --token-file ENROLMENT-TOKEN");
            }
            LOG.warn("the manager rejects the stored credential of host {}; enrolling again", config.hostId());
        } else if (config.token() == null) {
            throw new IOException("host " + config.hostId() + " is not enrolled (no " + file + "): pass the manager's"
                    + " enrolment token with --token-file FILE (or $" + ManagerClient.ENV_TOKEN_FILE + ")");
        }
        ManagerClient bootstrap = new ManagerClient(config.managers(), config.token(), tls);
        HostCredentialView issued = bootstrap.enrol(config.hostId());
        TokenFiles.write(file, issued.token());
        LOG.info("host {} enrolled; its credential is in {}", config.hostId(), file);
        return bootstrap.withToken(issued.token());
    }

    /** Whether the manager accepts the client's credential for the host (a 404 only says it is not registered yet). */
    private static boolean accepted(final ManagerClient client, final String hostId) {
        try {
            client.host(hostId);
            return true;
        } catch (ManagerClientException e) {
            if (e.status() == UNAUTHORIZED) {
                return false;
            }
            if (e.status() == ManagerClientException.NO_REPLY || e.status() >= 500 || e.status() == 403) {
                throw e;
            }
            return true;
        }
    }
}
