package dev.virtman.manager.backend;

import dev.virtman.testing.EtcdCluster;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract on real etcd: one 3-member cluster of Debian's etcd-server for the class, each
 * test under its own key prefix (so tests start empty and a reopen sees the same keys).
 */
@Tag("interop")
class EtcdBackendTest extends StateBackendContract {

    @TempDir
    static Path dir;
    private static EtcdCluster etcd;
    private String prefix;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.start(3, dir);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void freshPrefix() {
        prefix = "/virtman-test/" + UUID.randomUUID() + "/";
    }

    @Override
    protected StateBackend openOnSameStorage() {
        return EtcdBackend.connect(etcd.clientUrls(), prefix, EtcdBackend.TIMEOUT);
    }
}
