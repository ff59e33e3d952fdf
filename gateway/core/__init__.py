"""The small vocabulary every layer uses: errors, ids, types, rate limits,
the client's principal, the cross-vendor work merge and settings."""
