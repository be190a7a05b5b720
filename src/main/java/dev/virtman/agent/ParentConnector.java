package dev.virtman.agent;

import dev.virtman.block.BlockDevice;
import dev.virtman.block.FileBlockDevice;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens an upstream URL as a read-only {@link BlockDevice}: the bottom of an agent's stack.
 * {@code file:///PATH} opens a raw image on this host (an agent that is its own source);
 * {@code iscsi://HOST[:PORT]/IQN/LUN} logs in to a parent's target with VirtMan's initiator.
 */
public final class ParentConnector {
    private static final String FILE = "file";
    private static final String ISCSI = "iscsi";

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
            case ISCSI -> throw new IOException("iscsi:// parents need the iSCSI initiator: " + url);
            default -> throw new IllegalArgumentException(
                    "parent URL must be iscsi://HOST:PORT/IQN/LUN or file:///PATH: " + url);
        };
    }
}
