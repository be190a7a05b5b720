/**
 * The manager's REST wire contract (JSON, versioned under {@code /v1}): request and response
 * records shared by the HTTP server and {@link dev.virtman.manager.client.ManagerClient}.
 * docs/manager.md lists every endpoint with its status codes.
 */
package dev.virtman.manager.api;
