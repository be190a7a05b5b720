package dev.virtman.manager.api;

/** Body of every 4xx/5xx reply. */
public record ErrorBody(String error) { }
