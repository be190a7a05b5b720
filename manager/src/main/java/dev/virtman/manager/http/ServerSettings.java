package dev.virtman.manager.http;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the manager's HTTP server lets a client hold and send. Every bound exists because of an
 * attack or a fleet size (docs/manager.md, "Server"): a client that does not finish its request
 * headers, a client that connects and says nothing, a huge body, and anonymous request floods.
 *
 * @param maxConnections       open TCP connections; beyond it the server stops accepting until
 *                             one closes. Must exceed the fleet (one agent stream each) plus CLI
 *                             and abuse headroom
 * @param idleTimeout          an HTTP connection silent this long is closed
 * @param headerTimeout        request headers not complete this long after their first byte:
 *                             the connection is closed (slowloris, half-sent requests)
 * @param maxHeaderBytes       request line plus headers; beyond it 431
 * @param maxBodyBytes         request body; beyond it 413
 * @param anonymousConcurrency requests without a valid credential handled at once; beyond it
 *                             503 at once, so they never take threads agents need
 * @param requestThreads       handler threads (platform threads, see {@link ManagerServer})
 * @param tlsCertificate       PEM certificate chain, or null for cleartext
 * @param tlsKey               PEM private key (PKCS#8) of that certificate
 */
public record ServerSettings(int maxConnections, Duration idleTimeout, Duration headerTimeout, int maxHeaderBytes,
                             int maxBodyBytes, int anonymousConcurrency, int requestThreads,
                             Path tlsCertificate, Path tlsKey) {

    /** 10,000 agents with one stream each, CLI and scrapes, room for abusers; under a 20,000 fd limit. */
    public static final int DEFAULT_MAX_CONNECTIONS = 16_000;
    /** A boot profile of a 15 GB image in 64 KiB chunks is ~2 MB of JSON; nothing else is near. */
    public static final int DEFAULT_MAX_BODY_BYTES = 8 << 20;

    public static final ServerSettings DEFAULT = new ServerSettings(DEFAULT_MAX_CONNECTIONS, Duration.ofSeconds(30),
            Duration.ofSeconds(10), 16 << 10, DEFAULT_MAX_BODY_BYTES, 16, 64, null, null);

    public ServerSettings {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        if (maxConnections < 1 || maxHeaderBytes < 1024 || maxBodyBytes < 1 || anonymousConcurrency < 1
                || requestThreads < 8) {
            throw new IllegalArgumentException("server limits out of range: " + maxConnections + " connections, "
                    + maxHeaderBytes + " header bytes, " + maxBodyBytes + " body bytes, " + anonymousConcurrency
                    + " anonymous requests, " + requestThreads + " threads");
        }
        if ((tlsCertificate == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("TLS needs both a certificate (--tls-cert) and its key (--tls-key)");
        }
    }

    public boolean tls() {
        return tlsCertificate != null;
    }

    public ServerSettings withTls(final Path certificate, final Path key) {
        return new ServerSettings(maxConnections, idleTimeout, headerTimeout, maxHeaderBytes, maxBodyBytes,
                anonymousConcurrency, requestThreads, certificate, key);
    }

    public ServerSettings withMaxConnections(final int max) {
        return new ServerSettings(max, idleTimeout, headerTimeout, maxHeaderBytes, maxBodyBytes,
                anonymousConcurrency, requestThreads, tlsCertificate, tlsKey);
    }

    public ServerSettings withTimeouts(final Duration idle, final Duration header) {
        return new ServerSettings(maxConnections, idle, header, maxHeaderBytes, maxBodyBytes,
                anonymousConcurrency, requestThreads, tlsCertificate, tlsKey);
    }
}
