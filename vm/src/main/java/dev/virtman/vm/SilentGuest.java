package dev.virtman.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether a guest has printed anything on its serial console yet. */
final class SilentGuest {
    private SilentGuest() {
    }

    /** True when the serial log is missing or holds nothing but whitespace and control characters. */
    static boolean printedNothing(final Path serialLog) {
        try {
            if (!Files.exists(serialLog)) {
                return true;
            }
            byte[] bytes = Files.readAllBytes(serialLog);
            for (byte b : bytes) {
                if (b > ' ' && b != 0x7f) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false; // cannot tell: let the normal timeout decide
        }
    }
}
