package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.block.FileBlockDevice;
import dev.virtman.disk.LunTable;
import dev.virtman.disk.ScsiDisk;
import dev.virtman.iscsi.target.ExportedTarget;
import dev.virtman.iscsi.target.IscsiTargetServer;
import dev.virtman.iscsi.target.TargetServerConfig;
import dev.virtman.scsi.DiskIdentity;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class IscsiReadCommandTest {

    static final String IQN = "iqn.2026-11.dev.virtman:cli-read";

    @TempDir
    Path dir;

    @Test
    void readsTheLunIntoAFileAndChecksItAgainstTheImage() throws Exception {
        byte[] bytes = new byte[(9 << 20) + 4096]; // not a multiple of the 4 MiB read size
        new Random(3).nextBytes(bytes);
        Path image = Files.write(dir.resolve("img"), bytes);
        byte[] other = bytes.clone();
        other[5 << 20] ^= 1;
        Path different = Files.write(dir.resolve("other"), other);
        try (FileBlockDevice dev = FileBlockDevice.open(image, false);
             IscsiTargetServer server = IscsiTargetServer.start(new TargetServerConfig(
                     new InetSocketAddress("127.0.0.1", 0), List.of(ExportedTarget.open(IQN,
                     new LunTable(List.of(new ScsiDisk(dev, DiskIdentity.fromName(IQN))))))))) {
            String url = "iscsi://127.0.0.1:" + server.localAddress().getPort() + "/" + IQN + "/0";
            Path out = dir.resolve("out");

            StringWriter err = new StringWriter();
            int exit = run(err, url, "-o", out.toString(), "--check", image.toString(), "--parallel", "3");
            assertThat(exit).as(err.toString()).isZero();
            assertThat(Files.readAllBytes(out)).isEqualTo(bytes);
            assertThat(err.toString()).contains("read " + bytes.length + " bytes").contains("identical to");

            StringWriter err2 = new StringWriter();
            assertThat(run(err2, url, "--check", different.toString())).isEqualTo(1);
            assertThat(err2.toString()).contains("MISMATCH: first differing byte at offset " + (5 << 20));
        }
    }

    @Test
    void aBadUrlIsAClearUsageError() {
        StringWriter err = new StringWriter();
        int exit = run(err, "iscsi://host/not-an-iqn/1");
        assertThat(exit).isNotZero();
        assertThat(err.toString()).contains("not an iqn., eui. or naa. name");
    }

    private static int run(final StringWriter err, final String... args) {
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = "iscsi-read";
        System.arraycopy(args, 0, all, 1, args.length);
        return cl.execute(all);
    }
}
