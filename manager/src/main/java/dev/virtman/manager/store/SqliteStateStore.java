package dev.virtman.manager.store;

import dev.virtman.manager.model.BootProfile;
import dev.virtman.manager.model.HostRecord;
import dev.virtman.manager.model.ImageRecord;
import dev.virtman.manager.model.ManifestSummary;
import dev.virtman.manager.api.GlanceOrigin;
import dev.virtman.manager.tree.DistributionTree;
import dev.virtman.manager.tree.Locality;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The manager's durable state in an embedded SQLite database (one file in the state directory,
 * nothing to install; docs/manager.md explains the choice).
 *
 * <p>Durability: write-ahead log with {@code synchronous=FULL}, so a commit returns only after
 * the log is fsynced; a kill -9 or power loss after {@link #commit} keeps the change, and one
 * before it leaves no trace. Every {@link StateChange} is one transaction. Changes marked
 * {@link StateChange#rebuildable()} commit with {@code synchronous=NORMAL} (no fsync per commit;
 * atomic, and kept across kill -9 since the log is already in the OS cache; only an OS crash can
 * drop them). The connection is
 * used by one thread at a time (methods are synchronized); the manager writes only on state
 * changes, never per heartbeat.
 */
public final class SqliteStateStore implements StateStore {

    private static final int SCHEMA_VERSION = 1;
    /** Wait this long for a lock held by another process before failing (e.g. a second manager). */

    private static final String[] SCHEMA = {
        """
        CREATE TABLE IF NOT EXISTS images (
          id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
          digest TEXT NOT NULL, size_bytes INTEGER NOT NULL, chunk_size INTEGER NOT NULL,
          chunk_count INTEGER NOT NULL, manifest_ref TEXT NOT NULL, registered_at INTEGER NOT NULL)""",
        """
        CREATE TABLE IF NOT EXISTS hosts (
          id TEXT PRIMARY KEY, address TEXT NOT NULL, rack TEXT NOT NULL, zone TEXT NOT NULL,
          failed INTEGER NOT NULL, registered_at INTEGER NOT NULL, seq INTEGER NOT NULL UNIQUE)""",
        """
        CREATE TABLE IF NOT EXISTS tree_edges (
          image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
          host_id TEXT NOT NULL, parent_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
          PRIMARY KEY (image_id, host_id))""",
        """
        CREATE TABLE IF NOT EXISTS boot_profiles (
          image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
          chunks BLOB NOT NULL, recorded_by TEXT, recorded_at INTEGER NOT NULL)""",
        // Added with Glance imports; older databases gain it on open (no existing row changes).
        """
        CREATE TABLE IF NOT EXISTS glance_origins (
          image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
          glance_url TEXT NOT NULL, glance_id TEXT NOT NULL, glance_name TEXT, disk_format TEXT NOT NULL,
          hash_algo TEXT, hash_value TEXT, checksum TEXT, series TEXT NOT NULL, version INTEGER NOT NULL,
          UNIQUE (series, version))""",
    };

    private final Connection db;
    private boolean syncFull = true;
    /**
     * The tree edges as this store last committed them, per image: a re-plan then writes only the
     * edges that changed instead of deleting and re-inserting the whole tree (10,000 rows per join
     * group at 10,000 hosts, under the manager's lock: the largest part of a join's cost in a
     * 10,000-host enrolment wave, docs/benchmarks-log.md). Absent for an image until this store
     * first writes its tree, which it then writes whole once. Guarded by this.
     */
    private final Map<String, WrittenTree> written = new HashMap<>();

    /** One stored edge: the parent and the row's ordinal (siblings load in ordinal order). */
    private record StoredEdge(String parentId, long ordinal) { }

    /** An image's edges as committed, and the next unused ordinal. */
    private record WrittenTree(Map<String, StoredEdge> edges, long nextOrdinal) { }

    private SqliteStateStore(final Connection db) {
        this.db = db;
    }

    /** Opens (creating if needed) the database file. */
    public static SqliteStateStore open(final Path file) {
        try {
            Connection db = DurableSqlite.open(file);
            try (Statement st = db.createStatement()) {
                st.execute("PRAGMA foreign_keys = ON");
                int version;
                try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                    version = rs.next() ? rs.getInt(1) : 0;
                }
                if (version > SCHEMA_VERSION) {
                    db.close();
                    throw new StoreException("state database " + file + " has schema version " + version
                            + ", newer than this virtman (" + SCHEMA_VERSION + ")", null);
                }
                db.setAutoCommit(false);
                for (String ddl : SCHEMA) {
                    st.execute(ddl);
                }
                st.execute("PRAGMA user_version = " + SCHEMA_VERSION);
                db.commit();
            }
            return new SqliteStateStore(db);
        } catch (SQLException e) {
            throw new StoreException("cannot open state database " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads everything. */
    @Override
    public synchronized StoredState load() {
        try {
            List<ImageRecord> images = new ArrayList<>();
            try (Statement st = db.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, name, path, digest, size_bytes, chunk_size, chunk_count,"
                         + " manifest_ref, registered_at, g.glance_url, g.glance_id, g.glance_name, g.disk_format,"
                         + " g.hash_algo, g.hash_value, g.checksum, g.series, g.version"
                         + " FROM images LEFT JOIN glance_origins g ON g.image_id = images.id"
                         + " ORDER BY registered_at, id")) {
                while (rs.next()) {
                    ManifestSummary m = new ManifestSummary(rs.getString(4), rs.getLong(5), rs.getInt(6),
                            rs.getLong(7), rs.getString(8));
                    GlanceOrigin glance = rs.getString(10) == null ? null : new GlanceOrigin(rs.getString(10),
                            rs.getString(11), rs.getString(12), rs.getString(13), rs.getString(14), rs.getString(15),
                            rs.getString(16), rs.getString(17), rs.getInt(18));
                    images.add(new ImageRecord(rs.getString(1), rs.getString(2), rs.getString(3), m,
                            Instant.ofEpochMilli(rs.getLong(9)), glance));
                }
            }
            List<HostRecord> hosts = new ArrayList<>();
            try (Statement st = db.createStatement();
                 ResultSet rs = st.executeQuery(
                         "SELECT id, address, rack, zone, failed, registered_at, seq FROM hosts ORDER BY seq")) {
                while (rs.next()) {
                    hosts.add(new HostRecord(rs.getString(1), rs.getString(2), new Locality(rs.getString(3),
                            rs.getString(4)), rs.getInt(5) != 0, Instant.ofEpochMilli(rs.getLong(6)), rs.getLong(7)));
                }
            }
            Map<String, List<DistributionTree.Edge>> edges = new LinkedHashMap<>();
            images.forEach(i -> edges.put(i.id(), new ArrayList<>()));
            try (Statement st = db.createStatement();
                 ResultSet rs = st.executeQuery(
                         "SELECT image_id, host_id, parent_id FROM tree_edges ORDER BY image_id, ordinal")) {
                while (rs.next()) {
                    edges.get(rs.getString(1)).add(new DistributionTree.Edge(rs.getString(2), rs.getString(3)));
                }
            }
            Map<String, DistributionTree> trees = new HashMap<>();
            edges.forEach((image, list) -> trees.put(image, DistributionTree.fromEdges(list)));
            Map<String, BootProfile> profiles = new HashMap<>();
            try (Statement st = db.createStatement();
                 ResultSet rs = st.executeQuery(
                         "SELECT image_id, chunks, recorded_by, recorded_at FROM boot_profiles")) {
                while (rs.next()) {
                    profiles.put(rs.getString(1), new BootProfile(rs.getString(1), decodeChunks(rs.getBytes(2)),
                            rs.getString(3), Instant.ofEpochMilli(rs.getLong(4))));
                }
            }
            db.commit();
            return new StoredState(images, hosts, trees, profiles);
        } catch (SQLException e) {
            rollbackQuietly();
            throw new StoreException("cannot read state database: " + e.getMessage(), e);
        }
    }

    /** Writes every operation of {@code change} in one transaction. */
    @Override
    public synchronized void commit(final StateChange change) {
        if (change.isEmpty()) {
            return;
        }
        // Trees as this change leaves them (null: the image's edges are gone), adopted once committed.
        Map<String, WrittenTree> pending = new HashMap<>();
        try {
            setSyncFull(!change.isRebuildable());
            for (StateChange.Op op : change.ops()) {
                apply(op, pending);
            }
            db.commit();
            pending.forEach((image, tree) -> {
                if (tree == null) {
                    written.remove(image);
                } else {
                    written.put(image, tree);
                }
            });
        } catch (SQLException e) {
            rollbackQuietly();
            throw new StoreException("state change rolled back: " + e.getMessage(), e);
        }
    }

    private void apply(final StateChange.Op op, final Map<String, WrittenTree> pending) throws SQLException {
        switch (op) {
            // Images are immutable once registered: a plain INSERT, so a duplicate fails loudly
            // (REPLACE would delete the row and cascade to its tree and profile).
            case StateChange.PutImage(ImageRecord i) -> {
                update("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        i.id(), i.name(), i.path(), i.manifest().digest(), i.manifest().sizeBytes(),
                        i.manifest().chunkSize(), i.manifest().chunkCount(), i.manifest().manifestRef(),
                        i.registeredAt().toEpochMilli());
                GlanceOrigin g = i.glance();
                if (g != null) {
                    update("INSERT INTO glance_origins VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", i.id(), g.glanceUrl(),
                            g.imageId(), g.imageName(), g.diskFormat(), g.osHashAlgo(), g.osHashValue(), g.checksum(),
                            g.series(), g.version());
                }
            }
            case StateChange.DeleteImage(String id) -> {
                update("DELETE FROM images WHERE id = ?", id); // its edges go with it (ON DELETE CASCADE)
                pending.put(id, null);
            }
            case StateChange.PutHost(HostRecord h) -> update(
                    "INSERT OR REPLACE INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    h.hostId(), h.address(), h.locality().rack(), h.locality().zone(), h.failed() ? 1 : 0,
                    h.registeredAt().toEpochMilli(), h.seq());
            case StateChange.DeleteHost(String id) -> update("DELETE FROM hosts WHERE id = ?", id);
            case StateChange.PutTree(String imageId, DistributionTree tree) ->
                pending.put(imageId, writeTree(imageId, tree,
                        pending.containsKey(imageId) ? pending.get(imageId) : written.get(imageId)));
            case StateChange.PutProfile(BootProfile p) -> update(
                    "INSERT OR REPLACE INTO boot_profiles VALUES (?, ?, ?, ?)",
                    p.imageId(), encodeChunks(p.chunks()), p.recordedBy(), p.recordedAt().toEpochMilli());
        }
    }

    /**
     * Writes {@code tree} over {@code before} (what the table holds for the image, or null when
     * unknown: then the whole tree is rewritten). Only edges whose parent changed, new edges, and
     * edges that would load out of sibling order are (re)written, and edges of hosts that left are
     * deleted. Rows load in ordinal order and a host's children in the order their rows load, so a
     * kept edge keeps its ordinal only while it is still larger than its previous sibling's; a
     * written one gets the next unused ordinal (larger than every other). Tables written before
     * (ordinals 0..n-1 in attach order) satisfy the same rule.
     */
    private WrittenTree writeTree(final String imageId, final DistributionTree tree, final WrittenTree before)
            throws SQLException {
        List<DistributionTree.Edge> edges = tree.edges();
        Map<String, StoredEdge> after = HashMap.newHashMap(edges.size());
        List<String> changed = new ArrayList<>();
        long next;
        if (before == null) {
            update("DELETE FROM tree_edges WHERE image_id = ?", imageId);
            next = 0;
            for (DistributionTree.Edge e : edges) {
                after.put(e.hostId(), new StoredEdge(e.parentId(), next++));
                changed.add(e.hostId());
            }
        } else {
            next = before.nextOrdinal();
            Map<String, Long> lastSibling = new HashMap<>();
            for (DistributionTree.Edge e : edges) { // siblings in their order: edges keep attach order
                StoredEdge old = before.edges().get(e.hostId());
                long last = lastSibling.getOrDefault(e.parentId(), Long.MIN_VALUE);
                StoredEdge now;
                if (old != null && old.parentId().equals(e.parentId()) && old.ordinal() > last) {
                    now = old;
                } else {
                    now = new StoredEdge(e.parentId(), next++);
                    changed.add(e.hostId());
                }
                lastSibling.put(e.parentId(), now.ordinal());
                after.put(e.hostId(), now);
            }
            try (PreparedStatement ps = db.prepareStatement("DELETE FROM tree_edges WHERE image_id = ? AND host_id = ?")) {
                int deletes = 0;
                for (String host : before.edges().keySet()) {
                    if (!after.containsKey(host)) {
                        ps.setString(1, imageId);
                        ps.setString(2, host);
                        ps.addBatch();
                        deletes++;
                    }
                }
                if (deletes > 0) {
                    ps.executeBatch();
                }
            }
        }
        if (!changed.isEmpty()) {
            try (PreparedStatement ps = db.prepareStatement("INSERT OR REPLACE INTO tree_edges VALUES (?, ?, ?, ?)")) {
                for (String host : changed) {
                    StoredEdge e = after.get(host);
                    ps.setString(1, imageId);
                    ps.setString(2, host);
                    ps.setString(3, e.parentId());
                    ps.setLong(4, e.ordinal());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        return new WrittenTree(after, next);
    }

    /** The synchronous level can only change outside a transaction. */
    private void setSyncFull(final boolean full) throws SQLException {
        if (full == syncFull) {
            return;
        }
        db.setAutoCommit(true);
        try (Statement st = db.createStatement()) {
            st.execute("PRAGMA synchronous = " + (full ? "FULL" : "NORMAL"));
        } finally {
            db.setAutoCommit(false);
        }
        syncFull = full;
    }

    private void update(final String sql, final Object... args) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private static byte[] encodeChunks(final int[] chunks) {
        ByteBuffer buf = ByteBuffer.allocate(chunks.length * Integer.BYTES);
        buf.asIntBuffer().put(chunks);
        return buf.array();
    }

    private static int[] decodeChunks(final byte[] blob) {
        int[] chunks = new int[blob.length / Integer.BYTES];
        ByteBuffer.wrap(blob).asIntBuffer().get(chunks);
        return chunks;
    }

    private void rollbackQuietly() {
        try {
            db.rollback();
        } catch (SQLException ignored) {
            // The connection is broken; the failed transaction is not committed either way.
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("cannot close state database: " + e.getMessage(), e);
        }
    }
}
