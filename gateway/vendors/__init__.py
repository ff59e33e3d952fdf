"""One package per vendor, each exporting ``PLUGIN`` (see gateway/plugin.py and
CONTRIBUTING.md); gateway/registry.py lists the ones this gateway serves."""
