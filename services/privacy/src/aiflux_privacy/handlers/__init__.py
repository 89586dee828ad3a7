"""Handlers of the privacy service: transport-agnostic, one module per domain area."""
