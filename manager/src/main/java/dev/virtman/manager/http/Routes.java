package dev.virtman.manager.http;

import dev.virtman.manager.api.ManagerException;
import dev.virtman.manager.api.ManagerException.Reason;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.pathmap.MatchedResource;
import org.eclipse.jetty.http.pathmap.PathMappings;
import org.eclipse.jetty.http.pathmap.UriTemplatePathSpec;

/**
 * The route table: URI templates ({@code /v1/images/{id}/tree}, RFC 6570 level 1, matched by
 * Jetty's {@link UriTemplatePathSpec}) to one handler per method. A path no template matches is a
 * 404, a method the template has no handler for a 405 naming the allowed ones.
 */
final class Routes {

    /** A route's work: a call in, a reply out. */
    @FunctionalInterface
    interface Route {
        Reply handle(Call call) throws Exception;
    }

    /**
     * What a raw path resolved to: the method's route, the decoded template variables and the
     * template itself (a low-cardinality metrics label).
     */
    record Match(Route route, Map<String, String> params, String template) { }

    private final PathMappings<Map<String, Route>> mappings = new PathMappings<>();

    Routes add(final String method, final String template, final Route route) {
        UriTemplatePathSpec spec = new UriTemplatePathSpec(template);
        Map<String, Route> methods = mappings.get(spec);
        if (methods == null) {
            methods = new LinkedHashMap<>();
            mappings.put(spec, methods);
        }
        if (methods.putIfAbsent(method, route) != null) {
            throw new IllegalStateException("two routes for " + method + " " + template);
        }
        return this;
    }

    /**
     * @param rawPath the path as sent (percent-encoded); variables are decoded after matching, so
     *                an encoded {@code /} in an id never splits a segment
     */
    Match resolve(final String method, final String rawPath) {
        MatchedResource<Map<String, Route>> matched = mappings.getMatched(rawPath);
        if (matched == null) {
            throw ManagerException.notFound("no such endpoint: " + decode(rawPath)
                    + (rawPath.startsWith("/v1/") ? "" : " (API is under /v1)"));
        }
        Route route = matched.getResource().get(method);
        if (route == null) {
            throw new ManagerException(Reason.METHOD_NOT_ALLOWED, "method " + method + " not allowed here; use "
                    + String.join(" or ", matched.getResource().keySet()));
        }
        Map<String, String> params = new LinkedHashMap<>();
        if (matched.getPathSpec() instanceof UriTemplatePathSpec spec) {
            spec.getPathParams(rawPath).forEach((k, v) -> params.put(k, decode(v)));
        }
        return new Match(route, params, matched.getPathSpec().getDeclaration());
    }

    static String decode(final String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
