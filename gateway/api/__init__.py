"""The GraphQL layer: Strawberry types and resolvers over the vendor adapters."""
