package dev.virtman.block;

import java.io.IOException;

/** A write reached a device that only allows reads; the SCSI layer maps it to DATA PROTECT. */
public final class ReadOnlyDeviceException extends IOException {
    public ReadOnlyDeviceException() {
        super("device is read-only");
    }
}
