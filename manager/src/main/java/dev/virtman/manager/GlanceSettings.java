package dev.virtman.manager;

import dev.virtman.openstack.glance.TokenSource;
import java.net.URI;
import java.util.Objects;

/**
 * The Glance a manager imports from on demand ({@code virtman manager --glance-url}).
 *
 * @param endpoint Glance's endpoint, e.g. {@code http://controller:9292}
 * @param tokens   Keystone token source, {@link TokenSource#NONE} for Glance in noauth mode
 */
public record GlanceSettings(URI endpoint, TokenSource tokens) {
    public GlanceSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(tokens, "tokens");
    }
}
