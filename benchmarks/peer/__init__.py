"""task-gateway side by side with GraphQL Mesh + Hive Gateway: `python -m benchmarks.peer`."""
