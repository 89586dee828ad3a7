"""Identity handlers: transport-agnostic use cases (HTTP routes and consumers call them)."""
