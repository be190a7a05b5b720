package dev.virtman.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fenced code blocks of the project's markdown, with the attributes of their info string
 * ({@code ```sh test=NAME files=a.raw skip=qemu-system-x86_64}). Only the first word of an info
 * string is the language (what GitHub renders); the rest is ours.
 */
final class DocumentedBlocks {
    private static final Pattern FENCE = Pattern.compile("^(\\s*)```(.*)$");
    /** A line an operator would type: a VirtMan command (the installed name or the launcher). */
    private static final Pattern VIRTMAN_COMMAND = Pattern.compile("^\\s*(\\./)?virtman\\s");

    /**
     * One fenced block.
     *
     * @param file       the markdown file, relative to the repository
     * @param line       the line of the opening fence (1-based)
     * @param language   the info string's first word ("" if none)
     * @param attributes the rest of the info string, {@code key=value} or a bare {@code key}
     * @param text       the block's lines, with the fence's indentation removed
     */
    record Block(String file, int line, String language, Map<String, String> attributes, String text) {

        boolean tested() {
            return attributes.containsKey("test");
        }

        boolean markedUntestable() {
            return attributes.containsKey("notest");
        }

        /** Blocks of one file with the same {@code test=NAME} run as one sequence; a bare {@code test} alone. */
        String group() {
            String name = attributes.getOrDefault("test", "");
            return file + ":" + (name.isEmpty() ? "line " + line : name);
        }

        /** Whether the block shows a command line of {@code virtman} (so it must be tested or marked). */
        boolean showsVirtmanCommand() {
            return text.lines().anyMatch(l -> VIRTMAN_COMMAND.matcher(l).find());
        }

        List<String> list(final String key) {
            String value = attributes.get(key);
            return value == null || value.isEmpty() ? List.of() : List.of(value.split(","));
        }

        @Override
        public String toString() {
            return file + ":" + line;
        }
    }

    private DocumentedBlocks() {
    }

    /** README.md and every docs/*.md (not the generated docs/sim and docs/storm reports). */
    static List<Path> markdownFiles(final Path root) {
        List<Path> files = new ArrayList<>();
        files.add(root.resolve("README.md"));
        try (var stream = Files.list(root.resolve("docs"))) {
            stream.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    static List<Block> parse(final Path root, final Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String name = root.relativize(file).toString();
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String indent = open.group(1);
            String[] info = open.group(2).strip().split("\\s+");
            Map<String, String> attributes = new LinkedHashMap<>();
            for (int k = 1; k < info.length; k++) {
                int eq = info[k].indexOf('=');
                attributes.put(eq < 0 ? info[k] : info[k].substring(0, eq), eq < 0 ? "" : info[k].substring(eq + 1));
            }
            StringBuilder text = new StringBuilder();
            int j = i + 1;
            for (; j < lines.size() && !lines.get(j).strip().equals("```"); j++) {
                String l = lines.get(j);
                text.append(l.startsWith(indent) ? l.substring(indent.length()) : l.stripLeading()).append('\n');
            }
            blocks.add(new Block(name, i + 1, info[0], attributes, text.toString()));
            i = j;
        }
        return blocks;
    }
}
