package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;
import dev.virtman.iscsi.initiator.InitiatorOptions;
import dev.virtman.iscsi.initiator.IscsiBlockDevice;
import dev.virtman.iscsi.initiator.IscsiUrl;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens an upstream URL as a read-only {@link BlockDevice}: the bottom of an agent's stack.
 * {@code file:///PATH} opens a raw image on this host (an agent that is its own source);
 * {@code iscsi://HOST[:PORT]/IQN/LUN} logs in to a parent's target with VirtMan's initiator, one
 * session per parent (the session re-logs in by itself after a lost connection, RFC 7143 §7.1.4.3
 * ERL 0 recovery, within its recovery timeout).
 */
public final class ParentConnector {
    private static final String FILE = "file";
    private static final String ISCSI = "iscsi";

    private final InitiatorOptions initiator;

    /** Connects to iSCSI parents with {@code initiator}'s name, timeouts and credentials. */
    public ParentConnector(final InitiatorOptions initiator) {
        this.initiator = initiator;
    }

    /** The initiator name an agent logs in to its parents with: its portal host, so parents' logs name it. */
    public static String initiatorNameFor(final String portalHost) {
        String safe = portalHost.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
        return ImageConfig.IQN_PREFIX + "agent." + safe;
    }

    /** Opens {@code url}; fails with a message naming the URL when the parent cannot be reached. */
    public BlockDevice open(final String url) throws IOException {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a parent URL: " + url + " (" + e.getMessage() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case FILE -> FileBlockDevice.open(Path.of(uri), false);
            case ISCSI -> IscsiBlockDevice.open(IscsiUrl.parse(url), initiator);
            default -> throw new IllegalArgumentException(
                    "parent URL must be iscsi://HOST:PORT/IQN/LUN or file:///PATH: " + url);
        };
    }
}
