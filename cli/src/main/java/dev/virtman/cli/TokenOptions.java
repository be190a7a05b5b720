package dev.virtman.cli;

import dev.virtman.manager.client.ManagerClient;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Where a command takes the manager's token from: {@code --token-file FILE}, else
 * {@code $VIRTMAN_TOKEN_FILE}, else {@code $VIRTMAN_TOKEN}. Never {@code --token VALUE}: argv is
 * world-readable in {@code ps} and {@code /proc/PID/cmdline}; the removed option is still
 * recognised, so a script that passes it fails with a message that says what to use instead
 * rather than "unknown option" (and the token it quoted is never echoed back).
 */
final class TokenOptions {

    static final String REMOVED = "--token VALUE was removed: a token on the command line is visible to every"
            + " local user in ps. Use --token-file FILE (mode 0600), or set $" + ManagerClient.ENV_TOKEN_FILE
            + " or $" + ManagerClient.ENV_TOKEN + ".";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the manager's token, mode 0600 (default: $" + ManagerClient.ENV_TOKEN_FILE
                    + ", else $" + ManagerClient.ENV_TOKEN + ").")
    Path tokenFile;

    private String argvToken;

    @Option(names = "--token", paramLabel = "TOKEN", hidden = true, description = "Removed: see --token-file.")
    void argvToken(final String value) {
        argvToken = value;
    }

    /** Fails the command if the removed {@code --token} was given. */
    void refuseArgvToken() {
        if (argvToken != null) {
            throw new CommandLine.ParameterException(mixee.commandLine(), REMOVED);
        }
    }

    /** The token: {@code --token-file}, the environment, else {@code fallbackFile} (null: required). */
    String token(final Path fallbackFile) {
        refuseArgvToken();
        return ManagerClient.tokenFrom(tokenFile, fallbackFile);
    }
}
