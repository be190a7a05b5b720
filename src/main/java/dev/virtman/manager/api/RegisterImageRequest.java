package dev.virtman.manager.api;

/** {@code POST /v1/images}: a raw image file readable by the manager. */
public record RegisterImageRequest(String name, String path) { }
