package dev.virtman.manager.model;

import java.time.Instant;

/** Chunk indices in the order the first booting host read them. */
public record BootProfile(String imageId, int[] chunks, String recordedBy, Instant recordedAt) { }
