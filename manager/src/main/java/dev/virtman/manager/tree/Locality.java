package dev.virtman.manager.tree;

import java.util.Objects;

/**
 * Where a host sits in the data centre. The planner prefers a parent in the same rack (traffic
 * stays behind one top-of-rack switch), then in the same zone, because cross-rack uplinks are
 * the scarce links during a boot storm. An empty string means "unknown" and matches nothing.
 */
public record Locality(String rack, String zone) {

    public static final Locality UNKNOWN = new Locality("", "");

    public Locality {
        rack = Objects.requireNonNullElse(rack, "");
        zone = Objects.requireNonNullElse(zone, "");
    }

    boolean sameRack(final Locality other) {
        return !rack.isEmpty() && rack.equals(other.rack) && sameZoneOrUnknown(other);
    }

    boolean sameZone(final Locality other) {
        return !zone.isEmpty() && zone.equals(other.zone);
    }

    /** Rack names are only unique within a zone, so a rack match also needs compatible zones. */
    private boolean sameZoneOrUnknown(final Locality other) {
        return zone.isEmpty() || other.zone.isEmpty() || zone.equals(other.zone);
    }

    /** 0 = same rack, 1 = same zone, 2 = elsewhere: lower is a better parent. */
    int distanceTo(final Locality other) {
        if (sameRack(other)) {
            return 0;
        }
        return sameZone(other) ? 1 : 2;
    }
}
