"""Handlers of the storage service: transport-agnostic, called by routes and consumers."""
