package dev.virtman.manager.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * How the manager opens each of its SQLite files ({@code manager.db}, {@code volumes.db}):
 * write-ahead log with {@code synchronous=FULL}, so a commit returns only after the log is
 * fsynced, and a busy timeout, so a statement that meets a lock another connection holds on the
 * file waits for it (up to 5 s) instead of failing at once with SQLITE_BUSY.
 */
public final class DurableSqlite {
    private static final int BUSY_TIMEOUT_MILLIS = 5_000;

    private DurableSqlite() {
    }

    /** Opens (creating if needed) {@code file} with the settings above; the caller sets up its schema. */
    public static Connection open(final Path file) throws SQLException {
        Connection db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        try (Statement st = db.createStatement()) {
            st.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MILLIS);
            st.execute("PRAGMA journal_mode = WAL");
            st.execute("PRAGMA synchronous = FULL");
        } catch (SQLException e) {
            db.close();
            throw e;
        }
        return db;
    }
}
