/**
 * Glance as an image source: the Glance v2 image API client ({@link dev.virtman.openstack.glance.GlanceClient}),
 * Keystone v3 token auth, a download verifier for Glance's recorded hashes, and the importer that
 * turns a Glance image into a verified raw file the manager registers (docs/openstack.md, "Glance").
 */
package dev.virtman.openstack.glance;
