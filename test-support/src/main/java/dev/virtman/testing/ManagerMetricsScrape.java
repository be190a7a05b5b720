package dev.virtman.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads one unlabelled sample from a manager's Prometheus page ({@code GET /metrics}, admin token). */
public final class ManagerMetricsScrape {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    private ManagerMetricsScrape() {
    }

    /** The value of {@code name}; fails if the page does not have it. */
    public static double value(final URI manager, final String adminToken, final String name) {
        HttpRequest request = HttpRequest.newBuilder(manager.resolve("/metrics")).timeout(TIMEOUT)
                .header("Authorization", "Bearer " + adminToken).GET().build();
        String page;
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + request.uri() + ": HTTP " + response.statusCode());
            }
            page = response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        for (String line : page.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new IllegalStateException(request.uri() + " has no sample " + name);
    }
}
