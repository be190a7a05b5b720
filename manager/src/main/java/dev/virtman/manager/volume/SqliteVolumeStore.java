package dev.virtman.manager.volume;

import dev.virtman.manager.store.DurableSqlite;
import dev.virtman.manager.store.StoreException;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The manager's volumes in their own SQLite file next to {@code manager.db} (same settings: WAL,
 * {@code synchronous=FULL}, so a create or delete that returned is on disk). Its own file keeps
 * volumes out of the tree state's schema: volumes change on API calls, never per heartbeat.
 */
public final class SqliteVolumeStore implements VolumeStore {
    private static final String BLANK = "";
    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS volumes (
              id TEXT PRIMARY KEY, name TEXT, image_id TEXT NOT NULL, host_id TEXT,
              size_bytes INTEGER NOT NULL, state TEXT NOT NULL, chap_user TEXT NOT NULL,
              chap_secret TEXT NOT NULL, created_at INTEGER NOT NULL)""";
    private static final String COLUMNS = "id, name, image_id, host_id, size_bytes, state, chap_user, chap_secret, created_at";

    private final Connection db;

    private SqliteVolumeStore(final Connection db) {
        this.db = db;
    }

    public static SqliteVolumeStore open(final Path file) {
        try {
            Connection db = DurableSqlite.open(file);
            try (Statement st = db.createStatement()) {
                st.execute(SCHEMA);
            }
            return new SqliteVolumeStore(db);
        } catch (SQLException e) {
            throw new StoreException("cannot open volume store " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void insert(final VolumeRecord v) {
        try (PreparedStatement st = db.prepareStatement("INSERT INTO volumes (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?)")) {
            st.setString(1, v.id());
            st.setString(2, v.name());
            // A blank volume has no image; the column predates blank volumes and is NOT NULL.
            st.setString(3, v.imageId() == null ? BLANK : v.imageId());
            st.setString(4, v.hostId());
            st.setLong(5, v.sizeBytes());
            st.setString(6, v.state().name());
            st.setString(7, v.chapUser());
            st.setString(8, v.chapSecret());
            st.setLong(9, v.createdAt().toEpochMilli());
            st.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot store volume " + v.id() + ": " + e.getMessage(), e);
        }
    }

    /** Changes host and state of a volume. */
    @Override
    public synchronized void update(final VolumeRecord v) {
        try (PreparedStatement st = db.prepareStatement("UPDATE volumes SET host_id = ?, state = ? WHERE id = ?")) {
            st.setString(1, v.hostId());
            st.setString(2, v.state().name());
            st.setString(3, v.id());
            st.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot update volume " + v.id() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void delete(final String id) {
        try (PreparedStatement st = db.prepareStatement("DELETE FROM volumes WHERE id = ?")) {
            st.setString(1, id);
            st.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot delete volume " + id + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Optional<VolumeRecord> find(final String id) {
        List<VolumeRecord> found = query("SELECT " + COLUMNS + " FROM volumes WHERE id = ?", id);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
    }

    @Override
    public synchronized List<VolumeRecord> all() {
        return query("SELECT " + COLUMNS + " FROM volumes ORDER BY created_at, id", null);
    }

    private List<VolumeRecord> query(final String sql, final String arg) {
        try (PreparedStatement st = db.prepareStatement(sql)) {
            if (arg != null) {
                st.setString(1, arg);
            }
            List<VolumeRecord> out = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    String image = rs.getString(3);
                    out.add(new VolumeRecord(rs.getString(1), rs.getString(2), BLANK.equals(image) ? null : image,
                            rs.getString(4),
                            rs.getLong(5), VolumeState.valueOf(rs.getString(6)), rs.getString(7), rs.getString(8),
                            Instant.ofEpochMilli(rs.getLong(9))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot read volumes: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("cannot close volume store: " + e.getMessage(), e);
        }
    }
}
