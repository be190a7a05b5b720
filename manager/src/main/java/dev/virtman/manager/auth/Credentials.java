package dev.virtman.manager.auth;

import dev.virtman.manager.api.ApiToken;
import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;
import dev.virtman.manager.api.StateDir;
import dev.virtman.manager.api.TargetNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's credentials by role, and the one place a bearer token becomes a {@link Principal}:
 * <ul>
 *   <li>the <b>admin token</b> ({@code token} in the state directory, 0600);</li>
 *   <li>the <b>enrolment token</b> ({@code enrol-token}, 0600): a bootstrap secret handed to new
 *       compute nodes, good only for enrolling a host id nobody holds a credential for;</li>
 *   <li>one <b>host token</b> per enrolled host, issued once by {@link #enrol} (the agent keeps
 *       it in a 0600 file) and known here only by its SHA-256 ({@link HostCredentialStore}).</li>
 * </ul>
 * Thread-safe. Lookups compare hashes of 256-bit random tokens, so their timing reveals nothing
 * an attacker could use; the admin and enrolment tokens compare in constant time.
 */
public final class Credentials implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Credentials.class);
    /** 256 bits, like the admin token. */
    private static final int TOKEN_BYTES = 32;
    /** Marks a host token, so a log or an error can say which kind was presented, never its value. */
    static final String HOST_TOKEN_PREFIX = "vmh.";

    private final ApiToken admin;
    private final ApiToken enrolment;
    private final HostCredentialStore store;
    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();
    /** token hash -> host id, and back; guarded by this. */
    private final Map<String, String> hostByHash = new HashMap<>();
    private final Map<String, String> hashByHost = new HashMap<>();

    private Credentials(final ApiToken admin, final ApiToken enrolment, final HostCredentialStore store,
                        final InstantSource clock) {
        this.admin = admin;
        this.enrolment = enrolment;
        this.store = store;
        this.clock = clock;
        store.load().forEach((host, hash) -> {
            hostByHash.put(hash, host);
            hashByHost.put(host, hash);
        });
    }

    /** Loads (creating at first start) the admin and enrolment tokens and the host credential hashes. */
    public static Credentials open(final StateDir dir, final InstantSource clock) throws IOException {
        return open(dir, clock, SqliteCredentialStore.open(dir.path().resolve(HostCredentialStore.FILE)));
    }

    /**
     * Like {@link #open(StateDir, InstantSource)} with the host credential hashes in {@code store}
     * (etcd, when several managers share the state); the admin and enrolment tokens stay files in
     * the state directory.
     */
    public static Credentials open(final StateDir dir, final InstantSource clock, final HostCredentialStore store)
            throws IOException {
        ApiToken admin;
        ApiToken enrolment;
        try {
            admin = ApiToken.loadOrCreate(dir.token());
            enrolment = ApiToken.loadOrCreate(dir.enrolToken());
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return new Credentials(admin, enrolment, store, clock);
    }

    public String adminToken() {
        return admin.value();
    }

    public String enrolmentToken() {
        return enrolment.value();
    }

    /**
     * The principal a bearer token names.
     *
     * @throws ManagerException {@link Reason#UNAUTHORIZED} for a missing or unknown token
     */
    public Principal authenticate(final String bearer) {
        if (bearer == null || bearer.isEmpty()) {
            throw new ManagerException(Reason.UNAUTHORIZED, "missing bearer token: send 'Authorization: Bearer"
                    + " <token>' (the admin token is in the manager's state directory; agents use their host token)");
        }
        if (admin.matches(bearer)) {
            return Principal.ADMIN;
        }
        if (enrolment.matches(bearer)) {
            return Principal.ENROLLER;
        }
        String host;
        synchronized (this) {
            host = hostByHash.get(sha256(bearer));
        }
        if (host != null) {
            return Principal.host(host);
        }
        throw new ManagerException(Reason.UNAUTHORIZED, bearer.startsWith(HOST_TOKEN_PREFIX)
                ? "unknown host token (revoked, or the host was removed): enrol the host again"
                : "invalid bearer token");
    }

    /** Whether a host holds a credential. */
    public synchronized boolean enrolled(final String hostId) {
        return hashByHost.containsKey(hostId);
    }

    /**
     * Issues host {@code hostId} its own token, replacing (revoking) any earlier one; the token is
     * returned once and only its hash is kept. Durable before it returns.
     */
    public HostCredential enrol(final Principal who, final String hostId) {
        if (hostId == null || !TargetNames.HOST_ID.matcher(hostId).matches()) {
            throw ManagerException.invalid("hostId must match " + TargetNames.HOST_ID.pattern() + ", got '" + hostId + "'");
        }
        byte[] raw = new byte[TOKEN_BYTES];
        random.nextBytes(raw);
        String token = HOST_TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        String hash = sha256(token);
        Instant now = clock.instant();
        boolean rotated;
        synchronized (this) {
            rotated = hashByHost.containsKey(hostId);
            Access.requireMayEnrol(who, hostId, rotated);
            store.put(hostId, hash, now);
            String old = hashByHost.put(hostId, hash);
            if (old != null) {
                hostByHash.remove(old);
            }
            hostByHash.put(hash, hostId);
        }
        LOG.info("{} host {} (by {})", rotated ? "re-enrolled, old credential revoked:" : "enrolled", hostId, who);
        return new HostCredential(hostId, token, rotated);
    }

    /** Revokes a host's credential (the host was removed). No-op if it has none. */
    public synchronized void revoke(final String hostId) {
        String hash = hashByHost.remove(hostId);
        if (hash != null) {
            store.delete(hostId);
            hostByHash.remove(hash);
            LOG.info("revoked the credential of host {}", hostId);
        }
    }

    /**
     * Re-reads the host credential hashes from the store: a manager following the leader on
     * etcd learns the hosts the leader enrolled or revoked.
     */
    public void reload() {
        Map<String, String> stored = store.load();
        synchronized (this) {
            hostByHash.clear();
            hashByHost.clear();
            stored.forEach((host, hash) -> {
                hostByHash.put(hash, host);
                hashByHost.put(host, hash);
            });
        }
    }

    /** A freshly issued host credential; {@code rotated} when it replaced an earlier one. */
    public record HostCredential(String hostId, String token, boolean rotated) { }

    static String sha256(final String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
