package dev.virtman.manager.orders;

import dev.virtman.manager.api.VmOrder;
import dev.virtman.manager.store.DurableSqlite;
import dev.virtman.manager.store.StoreException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VM orders in their own SQLite file ({@link VmOrderStore#FILE}, same settings as {@code
 * manager.db}: an order that was answered 201 is on disk). Orders change on API calls only, never
 * per heartbeat, so they stay out of the tree state's schema. An upsert keeps the row (and its
 * rowid, the placement order).
 */
public final class SqliteVmOrderStore implements VmOrderStore {
    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS vm_orders (
              host_id TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (host_id, name))""";

    private final Connection db;
    private final Path file;

    private SqliteVmOrderStore(final Connection db, final Path file) {
        this.db = db;
        this.file = file;
    }

    public static SqliteVmOrderStore open(final Path file) {
        try {
            Connection db = DurableSqlite.open(file);
            try (Statement st = db.createStatement()) {
                st.execute(SCHEMA);
            } catch (SQLException e) {
                db.close();
                throw e;
            }
            return new SqliteVmOrderStore(db, file);
        } catch (SQLException e) {
            throw new StoreException("cannot open VM order store " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void put(final String hostId, final VmOrder order) {
        update("INSERT INTO vm_orders (host_id, name, value) VALUES (?, ?, ?)"
                + " ON CONFLICT (host_id, name) DO UPDATE SET value = excluded.value", "store VM order " + order.name(),
                hostId, order.name(), OrderValue.write(order));
    }

    @Override
    public synchronized void delete(final String hostId, final String name) {
        update("DELETE FROM vm_orders WHERE host_id = ? AND name = ?", "delete VM order " + name, hostId, name);
    }

    @Override
    public synchronized void forget(final String hostId) {
        update("DELETE FROM vm_orders WHERE host_id = ?", "delete the VM orders of " + hostId, hostId);
    }

    private void update(final String sql, final String what, final Object... args) {
        try (PreparedStatement st = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                st.setObject(i + 1, args[i]);
            }
            st.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("cannot " + what + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Map<String, List<VmOrder>> all() {
        Map<String, List<VmOrder>> out = new LinkedHashMap<>();
        try (Statement st = db.createStatement();
             ResultSet rs = st.executeQuery("SELECT host_id, value FROM vm_orders ORDER BY host_id, rowid")) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(OrderValue.read(rs.getBytes(2),
                        file.toString()));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read VM orders: " + e.getMessage(), e);
        }
        return out;
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("cannot close VM order store: " + e.getMessage(), e);
        }
    }
}
