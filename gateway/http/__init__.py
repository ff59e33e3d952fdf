"""The HTTP layer: server, app, CORS, guard, media types, persisted documents,
explorer, readiness, the client gate, /metrics and the sandboxes' mount."""
