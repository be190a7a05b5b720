package dev.virtman.iscsi.target;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.iscsi.login.ChapConfig;
import dev.virtman.testing.Commands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** libiscsi's command-line tools (iscsi-inq, iscsi-ls, iscsi-perf) against our target. */
@Tag("interop")
class LibiscsiToolsInteropTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void inquiryAndDiscovery() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir)) {
            String portal = "iscsi://127.0.0.1:" + f.address().getPort();
            Commands.Result inq = Commands.run(TIMEOUT, "iscsi-inq", portal + "/" + TargetFixture.IQN + "/0")
                    .requireSuccess();
            assertThat(inq.output()).contains("DIRECT_ACCESS").contains("VIRTMAN");
            Commands.Result ls = Commands.run(TIMEOUT, "iscsi-ls", "-s", portal).requireSuccess();
            assertThat(ls.output()).contains("Target:" + TargetFixture.IQN + " Portal:127.0.0.1:" + f.address().getPort())
                    .contains("Lun:0").contains("DIRECT_ACCESS");
        }
    }

    @Test
    void chapWithTheRightAndTheWrongPassword() throws IOException {
        ChapConfig chap = ChapConfig.oneWay("libiscsi-user", "a-long-enough-secret");
        try (TargetFixture f = TargetFixture.start(dir, chap, Set.of(), TargetTuning.DEFAULTS, null)) {
            String lun = "@127.0.0.1:" + f.address().getPort() + "/" + TargetFixture.IQN + "/0";
            Commands.run(TIMEOUT, "iscsi-inq", "iscsi://libiscsi-user%a-long-enough-secret" + lun).requireSuccess();
            Commands.Result wrong = Commands.run(TIMEOUT, "iscsi-inq", "iscsi://libiscsi-user%not-the-secret" + lun);
            assertThat(wrong.succeeded()).isFalse();
            Commands.Result none = Commands.run(TIMEOUT, "iscsi-inq", "iscsi" + lun.replace("@", "://"));
            assertThat(none.succeeded()).isFalse();
        }
    }

    @Test
    void initiatorAllowList() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir, null, Set.of("iqn.2026-11.dev.virtman:allowed"),
                TargetTuning.DEFAULTS, null)) {
            String url = "iscsi://127.0.0.1:" + f.address().getPort() + "/" + TargetFixture.IQN + "/0";
            Commands.run(TIMEOUT, "iscsi-inq", "-i", "iqn.2026-11.dev.virtman:allowed", url).requireSuccess();
            assertThat(Commands.run(TIMEOUT, "iscsi-inq", "-i", "iqn.2026-11.dev.virtman:stranger", url).succeeded())
                    .isFalse();
        }
    }

    @Test
    void iscsiPerfRunsRandomReadsAtQueueDepth32() throws IOException {
        try (TargetFixture f = TargetFixture.start(dir)) {
            String url = "iscsi://127.0.0.1:" + f.address().getPort() + "/" + TargetFixture.IQN + "/0";
            Commands.Result perf = Commands.run(TIMEOUT, "iscsi-perf", "-r", "-b", "8", "-m", "32", "-t", "3", url);
            assertThat(perf.output()).contains("iops average").doesNotContain("error");
            assertThat(perf.succeeded()).as(perf.describe()).isTrue();
        }
    }
}
