package dev.virtman.manager.backend;

import dev.virtman.manager.api.StateDir;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The contract on the embedded default: three SQLite files in a state directory. */
class SqliteBackendTest extends StateBackendContract {

    @TempDir
    Path dir;

    @Override
    protected StateBackend openOnSameStorage() {
        return StateBackend.sqlite(new StateDir(dir));
    }
}
