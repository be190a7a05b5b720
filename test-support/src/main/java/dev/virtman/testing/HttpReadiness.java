package dev.virtman.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

/** Waits for a service process the tests started to answer 200 on a probe URL, or fails with its log. */
final class HttpReadiness {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    private HttpReadiness() {
    }

    static void await(final HttpClient http, final Process process, final String name, final URI probe,
                      final Duration timeout, final Duration poll, final Supplier<String> log) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; log:\n" + log.get());
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(probe).timeout(PROBE_TIMEOUT).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            FreePorts.sleep(poll);
        }
        throw new IllegalStateException(name + " on " + probe + " not ready within " + timeout + "; log:\n" + log.get());
    }
}
