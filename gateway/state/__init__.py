"""What the gateway keeps between requests and shares between processes:
the storage seam, idempotent replays and work snapshots."""
