"""Per-vendor async adapters. Each module owns its vendor's URLs, auth, paging,
formats and quirks, and speaks the gateway's plain dataclasses and errors."""
