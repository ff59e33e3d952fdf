"""The upstream seam: the client every adapter calls through, its transport,
circuit breaker, token grants, response reading, single flight and read cache."""
