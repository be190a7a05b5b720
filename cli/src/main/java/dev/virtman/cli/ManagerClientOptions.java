package dev.virtman.cli;

import dev.virtman.manager.client.ManagerClient;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a client command finds the manager: flags, then environment, then the local state directory. */
final class ManagerClientOptions {

    @Option(names = "--manager", paramLabel = "URL",
            description = "Manager URL (default: $VIRTMAN_MANAGER, else the URL a local manager wrote to its state dir).")
    String manager;

    @Mixin
    TokenOptions token;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Manager state directory to read the URL and token from (default: $VIRTMAN_STATE_DIR, "
                    + "else ~/.local/state/virtman, then /var/lib/virtman).")
    Path stateDir;

    ManagerClient client() {
        token.refuseArgvToken();
        return ManagerClient.locate(manager, token.tokenFile, stateDir);
    }
}
