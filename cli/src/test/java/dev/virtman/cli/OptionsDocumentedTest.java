package dev.virtman.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.virtman.testing.ProjectPaths;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every option of the operator-facing commands is documented: its name appears in README.md or
 * docs/*.md (as {@code `--name`} or in a documented command line), and {@code --help} of every
 * command prints no picocli warning. {@code bench} and {@code sim} are benchmark tools, documented
 * by their own {@code --help} and docs/benchmarks.md / docs/simulation.md.
 */
class OptionsDocumentedTest {
    private static final Set<String> TOOLS = Set.of("bench", "sim", "help");
    private static final Set<String> STANDARD = Set.of("--help", "-h", "--version", "-V");

    @Test
    void everyOptionOfTheOperatorsCommandsIsInTheDocs() throws IOException {
        StringBuilder docs = new StringBuilder();
        for (Path file : DocumentedBlocks.markdownFiles(ProjectPaths.root())) {
            docs.append(Files.readString(file)).append('\n');
        }
        List<String> missing = new ArrayList<>();
        for (CommandSpec command : operatorCommands(new CommandLine(new VirtmanCommand()).getCommandSpec())) {
            for (OptionSpec option : command.options()) {
                if (option.hidden()) {
                    continue;
                }
                String name = option.longestName();
                if (STANDARD.contains(name)) {
                    continue;
                }
                if (!Pattern.compile(Pattern.quote(name) + "(?![\\w-])").matcher(docs).find()) {
                    missing.add(command.qualifiedName(" ") + " " + name);
                }
            }
        }
        assertThat(missing).as("options no doc mentions").isEmpty();
    }

    @Test
    void helpOfEveryCommandPrintsNoWarning() {
        List<String> warned = new ArrayList<>();
        for (CommandSpec command : all(new CommandLine(new VirtmanCommand()).getCommandSpec())) {
            StringWriter err = new StringWriter();
            StringWriter out = new StringWriter();
            CommandLine cl = new CommandLine(new VirtmanCommand());
            cl.setErr(new PrintWriter(err));
            cl.setOut(new PrintWriter(out));
            List<String> args = new ArrayList<>(List.of(command.qualifiedName(" ").split(" ")));
            args.removeFirst();
            args.add("--help");
            java.io.PrintStream saved = System.err;
            java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
            System.setErr(new java.io.PrintStream(captured, true));
            try {
                cl.execute(args.toArray(String[]::new));
            } finally {
                System.setErr(saved);
            }
            String errors = err + captured.toString();
            if (errors.contains("WARN") || out.toString().contains("[picocli")) {
                warned.add(String.join(" ", args) + ": " + errors);
            }
        }
        assertThat(warned).isEmpty();
    }

    private static List<CommandSpec> operatorCommands(final CommandSpec root) {
        return all(root).stream().filter(c -> c != root)
                .filter(c -> !TOOLS.contains(c.qualifiedName(" ").split(" ")[1])).toList();
    }

    private static List<CommandSpec> all(final CommandSpec spec) {
        List<CommandSpec> list = new ArrayList<>(List.of(spec));
        for (CommandLine sub : spec.subcommands().values()) {
            if (!list.contains(sub.getCommandSpec()) && sub.getCommandSpec().parent() == spec) {
                list.addAll(all(sub.getCommandSpec()));
            }
        }
        return list.stream().distinct().toList();
    }
}
