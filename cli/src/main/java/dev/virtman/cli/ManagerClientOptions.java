package dev.virtman.cli;

import dev.virtman.manager.client.ManagerClient;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a client command finds the manager: flags, then environment, then the local state directory. */
final class ManagerClientOptions {

    @Option(names = "--manager", paramLabel = "URL[,URL...]",
            description = "Manager URL, or several managers of one cluster separated by commas (the client fails over"
                    + " between them); default: $VIRTMAN_MANAGER, else the URL a local manager wrote to its state dir.")
    String manager;

    @Option(names = "--ca-file", paramLabel = "PEM",
            description = "CA certificates an https:// manager's certificate must chain to (default: $VIRTMAN_CA_FILE,"
                    + " else the JVM's trust store).")
    Path caFile;

    @Mixin
    TokenOptions token;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Manager state directory to read the URL and token from (default: $VIRTMAN_STATE_DIR, "
                    + "else ~/.local/state/virtman, then /var/lib/virtman).")
    Path stateDir;

    ManagerClient client() {
        token.refuseArgvToken();
        return ManagerClient.locate(manager, token.tokenFile, stateDir, caFile);
    }
}
