package dev.virtman.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a documented command sequence into one that runs on this machine without touching it:
 * the same commands and options, with
 * <ul>
 *   <li>hosts moved to loopback: {@code 0.0.0.0} (listen everywhere) → {@code 127.0.0.1}, {@code 10.0.0.N} → {@code 127.0.1.N}, {@code CONTROLLER_IP} and
 *       the host names {@code controller}/{@code manager} in URLs → {@code 127.0.0.1},
 *       {@code COMPUTE_IP} → {@code 127.0.2.1};</li>
 *   <li>every {@code HOST:PORT} on loopback given a free port (the same documented address always
 *       gets the same port, so a parent URL still names its agent's portal);</li>
 *   <li>absolute paths under {@code /var /etc /srv /images /tmp} moved under a temporary root;</li>
 *   <li>{@code ./virtman} → {@code virtman} (the test puts its own {@code virtman} first on PATH);</li>
 *   <li>long-running commands ({@code virtman manager|agent|serve}) started in the background by
 *       {@code vm_daemon}, which returns once the daemon says it is ready;</li>
 *   <li>lines whose command is in the block's {@code skip=} list commented out.</li>
 * </ul>
 */
final class DocumentedCommandRewriter {
    private static final Pattern TEN_NET = Pattern.compile("\\b10\\.0\\.0\\.(\\d{1,3})\\b");
    private static final Pattern NAMED_HOST = Pattern.compile("(?<=//)(controller|manager)(?=:\\d)");
    private static final Pattern ADDRESS = Pattern.compile("\\b(127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}):(\\d{2,5})\\b");
    private static final Pattern SYSTEM_PATH = Pattern.compile("(?<![\\w.~$-])/(var|etc|srv|images|tmp)(?=/)");
    /** A long-running command, perhaps after variable assignments ({@code VIRTMAN_TOKEN=... virtman agent}). */
    private static final Pattern DAEMON = Pattern.compile("^(\\s*(?:[A-Za-z_][A-Za-z0-9_]*=(?:\"[^\"]*\"|'[^']*'|\\S+)\\s+)*)"
            + "(virtman\\s+(manager|agent|serve)\\b)");
    private static final Pattern COUNT = Pattern.compile("--count \\d+");
    private static final Pattern LAUNCHER = Pattern.compile("^(\\s*)\\./virtman\\b", Pattern.MULTILINE);

    /** Top-level directories of the temporary root that documented absolute paths land in. */
    static final List<String> SYSTEM_DIRS = List.of("var", "etc", "srv", "images", "tmp");

    private final Path root;
    private final Map<String, Integer> ports = new HashMap<>();

    DocumentedCommandRewriter(final Path root) {
        this.root = root;
    }

    /** A path as the rewritten commands see it ({@code files=} entries go through this too). */
    String path(final String documented) {
        return SYSTEM_PATH.matcher(documented).replaceAll(m -> Matcher.quoteReplacement(root + "/" + m.group(1)));
    }

    /** As {@link #rewrite(String, List)}; {@code small}: boots cut to one VM ({@code --count N} → {@code --count 1}). */
    String rewrite(final String block, final List<String> skip, final boolean small) {
        return rewrite(small ? COUNT.matcher(block).replaceAll("--count 1") : block, skip);
    }

    String rewrite(final String block, final List<String> skip) {
        String text = LAUNCHER.matcher(block).replaceAll("$1virtman");
        text = TEN_NET.matcher(text).replaceAll("127.0.1.$1");
        text = text.replace("0.0.0.0:", "127.0.0.1:").replace("CONTROLLER_IP", "127.0.0.1").replace("COMPUTE_IP", "127.0.2.1");
        text = NAMED_HOST.matcher(text).replaceAll("127.0.0.1");
        text = ADDRESS.matcher(text).replaceAll(m -> m.group(1) + ":" + port(m.group(1), m.group(2)));
        text = path(text);
        StringBuilder out = new StringBuilder();
        boolean continued = false;
        boolean skipping = false;
        for (String line : text.split("\n", -1)) {
            if (!continued) {
                String command = line.strip();
                skipping = skip.stream().anyMatch(s -> command.equals(s) || command.startsWith(s + " "));
                Matcher daemon = DAEMON.matcher(line);
                if (!skipping && daemon.find()) {
                    line = daemon.group(1) + "vm_daemon " + line.substring(daemon.group(1).length());
                }
            }
            out.append(skipping ? "# skipped here: " : "").append(line).append('\n');
            continued = line.endsWith("\\");
        }
        return out.toString();
    }

    private int port(final String host, final String documented) {
        if (documented.equals("0")) {
            return 0;
        }
        return ports.computeIfAbsent(host + ":" + documented, k -> freePort(host));
    }

    private static int freePort(final String host) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }
}
