package dev.virtman.manager.auth;

import dev.virtman.manager.store.DurableSqlite;
import dev.virtman.manager.store.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hashes of the host credentials the manager issued, in their own SQLite file next to
 * {@code manager.db} (WAL, {@code synchronous=FULL}: an enrolment that returned a token is on
 * disk, so the agent's stored token stays valid across a manager crash). Only SHA-256 hashes are
 * stored: a copy of the file does not let anyone act as a host. Plain SHA-256 suffices because
 * the tokens are 256 random bits, not passwords.
 */
public final class SqliteCredentialStore implements HostCredentialStore {

    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS host_credentials (
              host_id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, issued_at INTEGER NOT NULL)""";

    private final Connection db;

    private SqliteCredentialStore(final Connection db) {
        this.db = db;
    }

    public static SqliteCredentialStore open(final Path file) {
        try {
            Connection db = DurableSqlite.open(file);
            try (Statement st = db.createStatement()) {
                st.execute(SCHEMA);
            }
            return new SqliteCredentialStore(db);
        } catch (SQLException e) {
            throw new StoreException("cannot open credential store " + file + ": " + e.getMessage(), e);
        }
    }

    /** host id -> token hash. */
    @Override
    public synchronized Map<String, String> load() {
        Map<String, String> out = new LinkedHashMap<>();
        try (Statement st = db.createStatement();
             ResultSet rs = st.executeQuery("SELECT host_id, token_sha256 FROM host_credentials ORDER BY issued_at")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read host credentials: " + e.getMessage(), e);
        }
        return out;
    }

    /** Issues or replaces (rotates) a host's credential hash. */
    @Override
    public synchronized void put(final String hostId, final String tokenSha256, final Instant issuedAt) {
        try (PreparedStatement st = db.prepareStatement("INSERT INTO host_credentials (host_id, token_sha256, issued_at)"
                + " VALUES (?,?,?) ON CONFLICT(host_id) DO UPDATE SET token_sha256 = excluded.token_sha256,"
                + " issued_at = excluded.issued_at")) {
            st.setString(1, hostId);
            st.setString(2, tokenSha256);
            st.setLong(3, issuedAt.toEpochMilli());
            st.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot store the credential of host " + hostId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void delete(final String hostId) {
        try (PreparedStatement st = db.prepareStatement("DELETE FROM host_credentials WHERE host_id = ?")) {
            st.setString(1, hostId);
            st.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot revoke the credential of host " + hostId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("cannot close credential store: " + e.getMessage(), e);
        }
    }
}
