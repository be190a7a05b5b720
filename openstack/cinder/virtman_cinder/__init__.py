"""Cinder volume driver for VirtMan: copy-on-write volumes over images, exported by each compute
node's own VirtMan agent."""
