package dev.virtman.block.overlay;

import java.io.IOException;

/** A volume's files do not belong to the geometry or base they are opened with. */
public final class OverlayFormatException extends IOException {
    public OverlayFormatException(final String message) {
        super(message);
    }
}
