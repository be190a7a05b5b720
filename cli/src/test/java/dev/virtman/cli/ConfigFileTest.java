package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ConfigFileTest {

    @TempDir
    Path dir;

    @Test
    void managerOptionsComeFromTheFileAndFlagsOverrideThem() throws IOException {
        Path file = write("manager.conf", """
                # the manager of rack 1
                listen = "0.0.0.0:7070"
                state-dir = "/var/lib/virtman"
                fan-out = 4
                heartbeat-timeout = "9s"
                serve-source = true
                source-portal = "10.0.0.1:3260"
                """);
        ManagerCommand cmd = parse(ManagerCommand.class, "manager", "--config", file.toString(), "--fan-out", "3");
        assertThat(cmd.listen).isEqualTo("0.0.0.0:7070");
        assertThat(cmd.stateDir).isEqualTo(Path.of("/var/lib/virtman"));
        assertThat(cmd.fanOut).as("the flag wins").isEqualTo(3);
        assertThat(cmd.heartbeatTimeout).isEqualTo(Duration.ofSeconds(9));
        assertThat(cmd.serveSource).isTrue();
        assertThat(cmd.sourcePortal).isEqualTo("10.0.0.1:3260");
        assertThat(cmd.heartbeatInterval).as("not in the file: the default").isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aRepeatableOptionIsAListAndTheCommandLineReplacesItWhole() throws IOException {
        Path file = write("agent.conf", """
                manager = "http://10.0.0.1:7070"
                host-id = "h1"
                cache-dir = "/var/cache/virtman"
                managed-image = ["debian", "alpine"]
                """);
        AgentCommand fromFile = parse(AgentCommand.class, "agent", "--config=" + file);
        assertThat(fromFile.managedImages).containsExactly("debian", "alpine");
        assertThat(fromFile.cacheDir).isEqualTo(Path.of("/var/cache/virtman"));
        AgentCommand overridden = parse(AgentCommand.class, "agent", "--managed-image", "busybox",
                "--config", file.toString());
        assertThat(overridden.managedImages).containsExactly("busybox");
        assertThat(overridden.hostId).isEqualTo("h1");
    }

    @Test
    void aBadFileIsAClearErrorNamingTheKey() throws IOException {
        assertThat(error("manager", "fan-outt = 2")).contains("unknown key 'fan-outt'").contains("no option --fan-outt");
        assertThat(error("manager", "fan-out = \"many\"")).contains("key 'fan-out'").contains("many");
        assertThat(error("manager", "heartbeat-timeout = \"soon\"")).contains("key 'heartbeat-timeout'");
        assertThat(error("manager", "serve-source = \"yes\"")).contains("key 'serve-source' is a flag");
        assertThat(error("manager", "fan-out = [1, 2]")).contains("key 'fan-out' takes one value");
        assertThat(error("manager", "[listen]\nhost = \"x\"")).contains("key 'listen'").contains("not object");
        assertThat(error("manager", "listen = \"a\"\nlisten = \"b\"")).contains("not valid TOML").contains("line");
        assertThat(error("manager", "help = true")).contains("unknown key 'help'");
        assertThat(error("manager", "config = \"other.conf\"")).contains("unknown key 'config'");
        assertThat(error("agent", "image = \"debian\"")).contains("key 'image'").contains("command line only");
        assertThat(error("agent", "managed-image = [[\"a\"]]")).contains("key 'managed-image'");
    }

    @Test
    void secretsAreRefusedAsValues() throws IOException {
        assertThat(error("agent", "token = \"s3cret\"")).contains("key 'token'").contains("secret")
                .doesNotContain("s3cret");
        assertThat(error("manager", "os-password = \"hunter2\"")).contains("key 'os-password'")
                .doesNotContain("hunter2");
        assertThat(ConfigFile.isSecret("token-file")).isFalse();
        assertThat(ConfigFile.isSecret("chap-secret")).isTrue();
        assertThat(ConfigFile.isSecret("os-token")).isTrue();
        assertThat(ConfigFile.isSecret("state-dir")).isFalse();
    }

    @Test
    void aMissingFileIsAUsageErrorOfTheCommand() {
        CommandLine root = new CommandLine(new VirtmanCommand());
        assertThatThrownBy(() -> VirtmanCommand.withConfigFile(root,
                new String[] {"manager", "--config", dir.resolve("absent.conf").toString()}))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("absent.conf: no such file");
        assertThatThrownBy(() -> VirtmanCommand.withConfigFile(root, new String[] {"manager", "--config"}))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--config");
    }

    @Test
    void commandsWithoutAConfigOptionAreLeftAlone() {
        String[] args = {"manifest", "--config", "x"};
        assertThat(VirtmanCommand.withConfigFile(new CommandLine(new VirtmanCommand()), args)).isSameAs(args);
    }

    private String error(final String command, final String toml) throws IOException {
        Path file = write(command + ".conf", toml);
        CommandLine root = new CommandLine(new VirtmanCommand());
        try {
            String[] args = VirtmanCommand.withConfigFile(root, new String[] {command, "--config", file.toString()});
            root.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            assertThat(e.getMessage()).contains(file.toString());
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + toml);
    }

    @SuppressWarnings("unchecked")
    private <T> T parse(final Class<T> type, final String... args) {
        CommandLine root = new CommandLine(new VirtmanCommand());
        Object command = root.parseArgs(VirtmanCommand.withConfigFile(root, args)).subcommand().commandSpec().userObject();
        assertThat(command).isInstanceOf(type);
        return (T) command;
    }

    private Path write(final String name, final String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
