package dev.virtman.block.manifest;

import java.io.IOException;

/** A manifest file that is not a valid version-1 VirtMan manifest; the message says what is wrong. */
public final class ManifestFormatException extends IOException {
    private final String detail;

    public ManifestFormatException(final String detail) {
        super("invalid manifest: " + detail);
        this.detail = detail;
    }

    /** The same problem, attributed to {@code source} (a file name). */
    ManifestFormatException in(final Object source) {
        return new ManifestFormatException(source + ": " + detail);
    }
}
