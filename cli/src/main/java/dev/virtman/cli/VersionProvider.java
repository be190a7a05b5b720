package dev.virtman.cli;

import picocli.CommandLine;

/** Reports the version from the jar manifest, or "dev" when run from classes. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = VirtmanCommand.class.getPackage().getImplementationVersion();
        return new String[] {"virtman " + (v == null ? "dev" : v), "Java " + Runtime.version()};
    }
}
