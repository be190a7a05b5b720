package dev.virtman.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The agent's HTTP side: {@code GET /metrics} in the Prometheus text format (what a scraper
 * polls) and {@code GET /status} as a small JSON document (what an operator or a test reads).
 * Read-only; anything else is 404 or 405.
 */
public final class MetricsEndpoint implements Closeable {
    /** Prometheus text exposition format 0.0.4. */
    static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON_CONTENT_TYPE = "application/json";
    private static final int OK = 200;
    private static final int NOT_FOUND = 404;
    private static final int METHOD_NOT_ALLOWED = 405;
    private static final int STOP_DELAY_SECONDS = 0;

    private final HttpServer server;

    private MetricsEndpoint(final HttpServer server) {
        this.server = server;
    }

    public static MetricsEndpoint start(final InetSocketAddress address, final PrometheusMeterRegistry registry,
                                        final Supplier<Object> status) throws IOException {
        HttpServer server = HttpServer.create(address, 0);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        server.createContext("/metrics", exchange ->
                respond(exchange, PROMETHEUS_CONTENT_TYPE, () -> registry.scrape().getBytes(StandardCharsets.UTF_8)));
        server.createContext("/status", exchange ->
                respond(exchange, JSON_CONTENT_TYPE, () -> json.writeValueAsBytes(status.get())));
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(NOT_FOUND, -1);
            exchange.close();
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return new MetricsEndpoint(server);
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private interface Body {
        byte[] get() throws IOException;
    }

    private static void respond(final HttpExchange exchange, final String contentType, final Body body)
            throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(METHOD_NOT_ALLOWED, -1);
                return;
            }
            byte[] bytes = body.get();
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(OK, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(STOP_DELAY_SECONDS);
    }
}
