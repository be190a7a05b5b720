package dev.virtman.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A command's options read from a TOML file ({@code --config FILE}): one key per long option name
 * without its dashes ({@code fan-out = 4} is {@code --fan-out 4}), a list for a repeatable option,
 * {@code true} for a flag.
 *
 * <p>Why the mapping is generic: the keys are looked up in the command's picocli model, so every
 * option a command gains works in the file without code here, and the values go through the very
 * converters and checks the command line uses. The file becomes arguments placed before the
 * command line's own; an option given on the command line drops the file's key, so flags override
 * the file (also for repeatable options, which would otherwise add up).
 *
 * <p>Errors name the file and the key: an unknown key, a table where a value belongs, a value the
 * option's converter rejects. Secrets are never values in the file (it is meant to be readable by
 * operators and lands in backups): a key for a secret-carrying option ({@code token},
 * {@code password}, {@code secret} in its name, unless it names a file) is refused with a pointer
 * to the file-path option. Options of argument groups (e.g. the agent's standalone
 * {@code --image/--manifest/--parent} groups, whose meaning depends on order) stay on the command
 * line.
 */
final class ConfigFile {

    /** The option that names the file; the commands that take one declare it through {@link Option}. */
    static final String OPTION = "--config";

    /** Names whose options carry secrets; only their {@code -file} variants may appear in a file. */
    private static final Set<String> SECRET_WORDS = Set.of("token", "password", "secret");

    private static final long MAX_FILE_BYTES = 1 << 20;

    private ConfigFile() {
    }

    /** The {@code --config FILE} option as a picocli mixin. */
    static final class Option {
        @CommandLine.Option(names = OPTION, paramLabel = "FILE",
                description = "read options from this TOML file: one key per long option without dashes "
                        + "(fan-out = 4, listen = \"0.0.0.0:7070\"); options on the command line override it")
        Path file;
    }

    /**
     * Returns {@code args} with the options of the {@code --config} file they name, if any, put
     * before them. {@code args} are the arguments after the subcommand's name.
     *
     * @throws CommandLine.ParameterException naming the file and key when the file is unreadable or wrong
     */
    static String[] expand(final CommandLine command, final String[] args) {
        CommandSpec spec = command.getCommandSpec();
        Path file = configPath(command, args);
        if (file == null) {
            return args;
        }
        JsonNode root = read(command, file);
        List<String> fromFile = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            OptionSpec option = optionFor(command, file, key);
            if (givenOnCommandLine(spec, option, args)) {
                continue;
            }
            List<String> these = arguments(command, file, key, option, field.getValue());
            check(command, file, key, these);
            fromFile.addAll(these);
        }
        List<String> all = new ArrayList<>(fromFile);
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    private static Path configPath(final CommandLine command, final String[] args) {
        Path found = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ("--".equals(a)) {
                break;
            }
            String value = null;
            if (a.equals(OPTION)) {
                if (i + 1 >= args.length) {
                    throw new CommandLine.ParameterException(command, "Missing required parameter for option '"
                            + OPTION + "' (FILE)");
                }
                value = args[++i];
            } else if (a.startsWith(OPTION + "=")) {
                value = a.substring(OPTION.length() + 1);
            }
            if (value != null) {
                if (found != null) {
                    throw new CommandLine.ParameterException(command, OPTION + " given twice");
                }
                found = Path.of(value);
            }
        }
        return found;
    }

    private static JsonNode read(final CommandLine command, final Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new CommandLine.ParameterException(command, "config " + file + ": larger than 1 MiB");
            }
            ObjectMapper toml = new TomlMapper();
            JsonNode root = toml.readTree(Files.readString(file));
            if (root == null || !root.isObject()) {
                throw new CommandLine.ParameterException(command, "config " + file + ": not a TOML document");
            }
            return root;
        } catch (NoSuchFileException e) {
            throw new CommandLine.ParameterException(command, "config " + file + ": no such file");
        } catch (JacksonException e) {
            throw new CommandLine.ParameterException(command, "config " + file + ": not valid TOML: "
                    + e.getOriginalMessage() + location(e));
        } catch (IOException e) {
            throw new CommandLine.ParameterException(command, "config " + file + ": cannot read: " + e.getMessage());
        }
    }

    private static String location(final JacksonException e) {
        return e.getLocation() == null || e.getLocation().getLineNr() < 1 ? ""
                : " (line " + e.getLocation().getLineNr() + ")";
    }

    private static OptionSpec optionFor(final CommandLine command, final Path file, final String key) {
        CommandSpec spec = command.getCommandSpec();
        OptionSpec option = key.startsWith("-") ? null : spec.findOption("--" + key);
        if (option == null || !option.longestName().equals("--" + key) || OPTION.equals(option.longestName())
                || option.usageHelp() || option.versionHelp()) {
            throw new CommandLine.ParameterException(command, "config " + file + ": unknown key '" + key
                    + "' (virtman " + spec.name() + " has no option --" + key + ")");
        }
        if (option.group() != null) {
            throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key
                    + "': --" + key + " belongs to a repeated group and is given on the command line only");
        }
        if (isSecret(key)) {
            throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key
                    + "' would put a secret in the file; give the path of a file holding it instead"
                    + (spec.findOption("--" + key + "-file") != null ? " (key '" + key + "-file')" : ""));
        }
        return option;
    }

    static boolean isSecret(final String key) {
        String k = key.toLowerCase(Locale.ROOT);
        if (k.endsWith("-file") || k.endsWith("-dir") || k.endsWith("-path")) {
            return false;
        }
        for (String word : k.split("-")) {
            if (SECRET_WORDS.contains(word)) {
                return true;
            }
        }
        return false;
    }

    private static boolean givenOnCommandLine(final CommandSpec spec, final OptionSpec option, final String[] args) {
        for (String a : args) {
            if ("--".equals(a)) {
                return false;
            }
            if (!a.startsWith("-")) {
                continue;
            }
            int eq = a.indexOf('=');
            OptionSpec named = spec.findOption(eq < 0 ? a : a.substring(0, eq));
            if (named == option) {
                return true;
            }
        }
        return false;
    }

    private static List<String> arguments(final CommandLine command, final Path file, final String key,
            final OptionSpec option, final JsonNode value) {
        String name = option.longestName();
        List<String> out = new ArrayList<>();
        if (value.isArray()) {
            if (!option.isMultiValue()) {
                throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key
                        + "' takes one value, not a list");
            }
            for (JsonNode element : value) {
                out.add(name);
                out.add(scalar(command, file, key, element));
            }
            return out;
        }
        boolean flag = option.arity().max() == 0;
        if (flag) {
            if (!value.isBoolean()) {
                throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key
                        + "' is a flag: write " + key + " = true or leave it out");
            }
            if (value.booleanValue()) {
                out.add(name);
            }
            return out;
        }
        out.add(name);
        out.add(scalar(command, file, key, value));
        return out;
    }

    private static String scalar(final CommandLine command, final Path file, final String key, final JsonNode v) {
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isIntegralNumber() || v.isFloatingPointNumber() || v.isBoolean()) {
            return v.asText();
        }
        throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key
                + "' needs a string, number or boolean, not " + v.getNodeType().toString().toLowerCase(Locale.ROOT));
    }

    /**
     * Runs one key's arguments through a fresh instance of the command so a value its converter
     * rejects is reported with the file and key; a missing required option is not this key's fault.
     */
    private static void check(final CommandLine command, final Path file, final String key, final List<String> args) {
        if (args.isEmpty()) {
            return;
        }
        Object fresh;
        try {
            fresh = CommandLine.defaultFactory().create(command.getCommandSpec().userObject().getClass());
        } catch (Exception e) {
            return; // the real parse still checks the value, only without the key's name
        }
        try {
            new CommandLine(fresh).parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.MissingParameterException e) {
            if (e.getMissing().stream().anyMatch(a -> a instanceof OptionSpec o && o.longestName().equals("--" + key))) {
                throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key
                        + "': " + e.getMessage());
            }
        } catch (CommandLine.ParameterException e) {
            throw new CommandLine.ParameterException(command, "config " + file + ": key '" + key + "': "
                    + e.getMessage());
        }
    }
}
