package dev.virtman.manager.api;

/** Placement labels of a host; either may be absent. */
public record Labels(String rack, String zone) {
    public static final Labels NONE = new Labels(null, null);
}
