package dev.virtman.cli;

import dev.virtman.agent.AgentConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class AgentCommandTest {

    @Test
    void standaloneOptionsBecomeOneConfigWithSeveralImages() {
        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--portal", "127.0.0.2:3261", "--cache-dir", "/tmp/c",
                "--upstream-cap", "1gbit", "--downstream-cap", "100M", "--cache-limit", "20G",
                "--image", "a", "--manifest", "a.manifest", "--parent", "iscsi://127.0.0.3/iqn.x:a/0",
                "--parent", "iscsi://127.0.0.1/iqn.x:a/0",
                "--image", "b", "--manifest", "b.manifest", "--parent", "file:///srv/b.raw");
        AgentConfig config = cmd.config();
        assertThat(config.images()).hasSize(2);
        assertThat(config.images().get(0).parents()).containsExactly("iscsi://127.0.0.3/iqn.x:a/0",
                "iscsi://127.0.0.1/iqn.x:a/0");
        assertThat(config.images().get(0).iqn()).isEqualTo("iqn.2026-11.dev.virtman:a");
        assertThat(config.images().get(1).manifest()).isEqualTo(Path.of("b.manifest"));
        assertThat(config.portal().getPort()).isEqualTo(3261);
        assertThat(config.upstreamBytesPerSecond()).isEqualTo(125_000_000L);
        assertThat(config.downstreamBytesPerSecond()).isEqualTo(100L << 20);
        assertThat(config.cacheLimitBytes()).isEqualTo(20L << 30);
    }

    @Test
    void badInputIsAUsageErrorNotAStackTrace() {
        assertThat(run("--cache-dir", "/tmp/c")).as("neither standalone nor managed").isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--upstream-cap", "fast", "--image", "a", "--manifest", "m",
                "--parent", "file:///x")).isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--cache-limit", "lots", "--image", "a", "--manifest", "m",
                "--parent", "file:///x")).isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--image", "Bad_Name", "--manifest", "m",
                "--parent", "file:///x")).isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--portal", "nohost", "--image", "a", "--manifest", "m",
                "--parent", "file:///x")).isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--vm-dir", "/tmp/v", "--image", "a", "--manifest", "m",
                "--parent", "file:///x")).as("VMs are ordered through a manager").isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--libvirt", "qemu:///system", "--image", "a", "--manifest", "m",
                "--parent", "file:///x")).as("--libvirt without --vm-dir").isEqualTo(2);
        assertThat(run("--cache-dir", "/tmp/c", "--manager", "http://127.0.0.1:1", "--host-id", "h1",
                "--token", "t0ken")).as("a token in argv is visible in ps").isEqualTo(2);
    }

    private static int run(final String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "agent";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine cl = new CommandLine(new VirtmanCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        return cl.execute(all);
    }
}
