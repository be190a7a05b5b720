package dev.virtman.agent;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One image an agent exports.
 *
 * @param name     short name; the export's IQN is {@code iqn.2026-11.dev.virtman:<name>} and the
 *                 cache lives in {@code <cache dir>/<name>}
 * @param parents  upstream URLs in preference order, the source last ({@code iscsi://HOST:PORT/IQN/LUN}
 *                 or {@code file:///PATH} for a raw image on this host)
 * @param manifest the image's chunk manifest file
 * @param iqn      the target name of the export: {@code iqn.2026-11.dev.virtman:<name>} standalone,
 *                 the name the manager plans ({@code TargetNames.agentIqn}) when managed
 */
public record ImageConfig(String name, List<String> parents, Path manifest, String iqn) {
    /** IQN prefix of every VirtMan export (RFC 7143 §4.2.7.1: iqn.yyyy-mm.reversed-domain:unique). */
    public static final String IQN_PREFIX = "iqn.2026-11.dev.virtman:";
    /** Characters an IQN's unique part and a directory name both accept (RFC 3722 stringprep, lower case). */
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{0,127}");

    public ImageConfig {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("image name must match " + NAME.pattern() + ": " + name);
        }
        parents = List.copyOf(parents);
        if (parents.isEmpty()) {
            throw new IllegalArgumentException("image " + name + " needs at least one parent");
        }
        if (parents.stream().distinct().count() != parents.size()) {
            throw new IllegalArgumentException("image " + name + " lists a parent twice");
        }
        if (iqn == null || iqn.isBlank()) {
            throw new IllegalArgumentException("image " + name + " needs a target name");
        }
    }

    /** A standalone image, exported as {@code iqn.2026-11.dev.virtman:<name>}. */
    public ImageConfig(final String name, final List<String> parents, final Path manifest) {
        this(name, parents, manifest, name == null ? null : iqnOf(name));
    }

    public static String iqnOf(final String imageName) {
        return IQN_PREFIX + imageName;
    }
}
