"""Handlers of the generation service: transport-agnostic use cases."""
